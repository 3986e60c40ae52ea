import Foundation
import LMEngine
import XCTest

final class GGUFTests: XCTestCase {
    // MARK: Helpers

    private var tempFiles: [URL] = []

    override func tearDown() {
        for url in tempFiles { try? FileManager.default.removeItem(at: url) }
        tempFiles = []
        super.tearDown()
    }

    private func temp(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("lmlab-gguf-\(UUID().uuidString).gguf")
        try Data(bytes).write(to: url)
        tempFiles.append(url)
        return url
    }

    /// Opens `bytes` as a GGUF file and returns the error it must throw.
    private func openError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> GGUFError? {
        let url = try temp(bytes)
        do {
            _ = try GGUFFile(url: url)
            XCTFail("expected a GGUFError", file: file, line: line)
            return nil
        } catch let error as GGUFError {
            XCTAssertFalse(error.description.contains("\n"), "error must be one line", file: file, line: line)
            return error
        }
    }

    /// A small valid file: a few keys and two tensors (F32 and Q8_0).
    private func smallWriter() throws -> GGUFWriter {
        var w = GGUFWriter()
        w.set("general.architecture", .string("tiny"))
        w.set("tiny.block_count", .uint32(2))
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: ["a", "b", "c"])))
        try w.addTensor(name: "norm.weight", dims: [8], type: .f32, bytes: [UInt8](repeating: 1, count: 32))
        try w.addTensor(name: "blk.0.w", dims: [32, 2], type: .q8_0, bytes: (0..<68).map { UInt8($0) })
        return w
    }

    // MARK: Real model

    func testSmolLM2Metadata() throws {
        let url = try TestPaths.smollm2
        let start = Date()
        let file = try GGUFFile(url: url)
        let openTime = Date().timeIntervalSince(start)
        let vocabStart = Date()
        let tokens = try file.stringArray("tokenizer.ggml.tokens")
        let vocabTime = Date().timeIntervalSince(vocabStart)
        print(String(format: "GGUF open: %.1f ms; vocabulary decode: %.1f ms", openTime * 1000, vocabTime * 1000))

        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(try file.string("general.architecture"), "llama")
        XCTAssertEqual(try file.int("llama.block_count"), 30)
        XCTAssertEqual(try file.int("llama.embedding_length"), 576)
        XCTAssertEqual(try file.float("llama.rope.freq_base"), 100_000)
        XCTAssertEqual(try file.bool("tokenizer.ggml.add_bos_token"), false)
        XCTAssertEqual(file.tensors.count, 272)
        XCTAssertEqual(file.fileSize, 98_362_432)
        XCTAssertEqual(file.dataOffset % 32, 0)

        let embd = try XCTUnwrap(file.tensor(named: "token_embd.weight"))
        XCTAssertEqual(embd.dims, [576, 49152])
        XCTAssertEqual(embd.type, .q8_0)
        XCTAssertEqual(embd.byteCount, 49152 * 576 / 32 * 34)
        XCTAssertEqual(file.tensor(named: "blk.0.attn_q.weight")?.type, .q4_1)

        XCTAssertEqual(tokens.count, 49152)
        XCTAssertEqual(tokens[1], "<|im_start|>")
        XCTAssertEqual(try file.int32Array("tokenizer.ggml.token_type").count, 49152)
        XCTAssertGreaterThan(try file.stringArray("tokenizer.ggml.merges").count, 0)

        // Norm weights are F32 and readable in place.
        let norm = try XCTUnwrap(file.tensor(named: "blk.0.attn_norm.weight"))
        XCTAssertEqual(norm.type, .f32)
        let first = file.pointer(to: norm).loadUnaligned(as: Float.self)
        XCTAssertTrue(first.isFinite && first != 0)

        // Typed accessors name the key.
        XCTAssertThrowsError(try file.string("no.such.key")) { error in
            XCTAssertEqual(error as? GGUFError, .missingKey("no.such.key"))
        }
        XCTAssertThrowsError(try file.string("llama.block_count")) { error in
            XCTAssertEqual((error as? GGUFError)?.description,
                           "metadata key 'llama.block_count' is uint32, expected a string")
        }
    }

    // MARK: Round trip

    func testRoundTripEveryValueType() throws {
        var w = GGUFWriter()
        let values: [(String, GGUFValue)] = [
            ("u8", .uint8(200)), ("i8", .int8(-100)), ("u16", .uint16(60000)), ("i16", .int16(-30000)),
            ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)), ("f32", .float32(3.25)),
            ("bool", .bool(true)), ("string", .string("naïve 🤖")), ("empty", .string("")),
            ("u64", .uint64(UInt64.max)), ("i64", .int64(Int64.min)), ("f64", .float64(-1e300)),
            ("floats", .array(GGUFArray(floats: [1, -2.5, 0]))),
            ("int32s", .array(GGUFArray(int32s: [1, -2, 3]))),
            ("strings", .array(GGUFArray(strings: ["x", "", "日本語"]))),
            ("bools", .array(GGUFArray(elementType: .bool, values: [.bool(false), .bool(true)]))),
            ("u64s", .array(GGUFArray(elementType: .uint64, values: [.uint64(1), .uint64(2)]))),
            ("nested", .array(GGUFArray(elementType: .array, values: [
                .array(GGUFArray(int32s: [1, 2])),
                .array(GGUFArray(elementType: .array, values: [.array(GGUFArray(strings: ["deep"]))])),
            ]))),
            ("emptyArray", .array(GGUFArray(floats: []))),
        ]
        for (k, v) in values { w.set(k, v) }
        try w.addTensor(name: "t", dims: [4, 3], type: .f32, bytes: (0..<48).map { UInt8($0) })

        let file = try GGUFFile(url: try temp(w.encoded()))
        XCTAssertEqual(file.metadataKeys, values.map(\.0))
        for (k, v) in values { XCTAssertEqual(file.metadata[k], v, k) }
        XCTAssertEqual(try file.floatArray("floats"), [1, -2.5, 0])
        XCTAssertEqual(try file.int32Array("int32s"), [1, -2, 3])
        XCTAssertEqual(try file.stringArray("strings"), ["x", "", "日本語"])
        XCTAssertThrowsError(try file.int("u64s"))
        XCTAssertEqual(try file.int("u32"), 4_000_000_000)
        XCTAssertThrowsError(try file.int("u64")) { error in
            XCTAssertEqual(error as? GGUFError, .valueOutOfRange(key: "u64", value: "\(UInt64.max)"))
        }
    }

    func testGemmaSizedVocabularyStaysLazy() throws {
        // Gemma-3's 262,144 tokens: opening walks the lengths, decoding happens on request.
        var w = GGUFWriter()
        let vocab = (0..<262_144).map { "▁tok\($0)" }
        w.set("tokenizer.ggml.tokens", .array(GGUFArray(strings: vocab)))
        w.set("tokenizer.ggml.scores", .array(GGUFArray(floats: (0..<262_144).map { -Float($0) })))
        let url = try temp(w.encoded())
        var start = Date()
        let file = try GGUFFile(url: url)
        let open = Date().timeIntervalSince(start)
        let array = try file.array("tokenizer.ggml.tokens")
        XCTAssertEqual(array.count, 262_144)
        start = Date()
        let strings = try file.stringArray("tokenizer.ggml.tokens")
        let decode = Date().timeIntervalSince(start)
        XCTAssertEqual(strings.last, "▁tok262143")
        XCTAssertEqual(try file.floatArray("tokenizer.ggml.scores")[1000], -1000)
        print(String(format: "262k-string vocabulary: open %.1f ms, decode %.1f ms", open * 1000, decode * 1000))
    }

    func testRoundTripTensorsAndRewrite() throws {
        let w = try smallWriter()
        let file = try GGUFFile(url: try temp(w.encoded()))
        XCTAssertEqual(file.tensors.map(\.name), ["norm.weight", "blk.0.w"])
        let q = try XCTUnwrap(file.tensor(named: "blk.0.w"))
        XCTAssertEqual(q.dims, [32, 2])
        XCTAssertEqual(q.byteCount, 68)
        XCTAssertEqual(q.offset % 32, 0)
        let bytes = Array(UnsafeRawBufferPointer(start: file.pointer(to: q), count: q.byteCount))
        XCTAssertEqual(bytes, (0..<68).map { UInt8($0) })

        // Metadata copied from a read file (lazy arrays copied raw) round-trips.
        var copy = GGUFWriter()
        for key in file.metadataKeys { copy.set(key, file.metadata[key]!) }
        copy.set("general.alignment", .uint32(64))
        try copy.addTensor(name: "blk.0.w", dims: q.dims, type: q.type, bytes: bytes)
        let url = try temp([])
        try copy.write(to: url)
        let again = try GGUFFile(url: url)
        XCTAssertEqual(again.alignment, 64)
        XCTAssertEqual(again.dataOffset % 64, 0)
        XCTAssertEqual(try again.stringArray("tokenizer.ggml.tokens"), ["a", "b", "c"])
        XCTAssertEqual(again.tensor(named: "blk.0.w")?.byteCount, 68)
    }

    func testWrongTypeAccessorsNameTheKey() throws {
        let file = try GGUFFile(url: try temp(smallWriter().encoded()))
        XCTAssertThrowsError(try file.floatArray("tokenizer.ggml.tokens")) { error in
            XCTAssertEqual((error as? GGUFError)?.description,
                           "metadata key 'tokenizer.ggml.tokens' is an array of string, expected an array of floats")
        }
        XCTAssertThrowsError(try file.bool("tiny.block_count"))
    }

    // MARK: Corruption

    func testWrongMagicAndForeignFiles() throws {
        let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 60)
        let zipError = try openError(zip)
        XCTAssertEqual(zipError, .notGGUF(magic: "PK\\u{3}\\u{4}"))
        XCTAssertEqual(zipError?.description, "not a GGUF file: magic is 'PK\\u{3}\\u{4}'")
        XCTAssertEqual(try openError(Array("hello, this is text\n".utf8)), .notGGUF(magic: "hell"))
        XCTAssertEqual(try openError(Array("hi".utf8)), .notGGUF(magic: "hi"))
        guard case .truncated(let what, _)? = try openError([]) else { return XCTFail("empty file") }
        XCTAssertEqual(what, "magic")
    }

    func testVersions() throws {
        var bytes = try smallWriter().encoded()
        bytes[4] = 1
        XCTAssertEqual(try openError(bytes), .unsupportedVersion(1))
        bytes[4] = 4
        XCTAssertEqual(try openError(bytes), .unsupportedVersion(4))
        var w = try smallWriter()
        w.version = 2
        XCTAssertEqual(try GGUFFile(url: try temp(w.encoded())).version, 2)
    }

    func testTruncatedAtStructuralBoundaries() throws {
        let bytes = try smallWriter().encoded()
        let file = try GGUFFile(url: try temp(bytes))
        // Cut points: inside the version, the counts, the keys, a value and
        // the tensor infos. Cutting early leaves too few bytes for the
        // declared counts, which is caught before anything is read.
        // Layout: header 24 | key 0 "general.architecture" (20) = string "tiny"
        // ends at 68 | key 1 "tiny.block_count" (16) = u32 ends at 100 | key 2 …
        let cases: [(Int, String)] = [
            (6, "truncated file: version ends past the end of the file (starts at byte 4)"),
            (10, "truncated file: tensor count ends"),
            (20, "truncated file: metadata key count ends"),
            (28, "metadata key count is 3, more than the 4 bytes left in the file can hold"),
            (98, "truncated file: metadata key 'tiny.block_count' ends past the end of the file (starts at byte 96)"),
            (115, "truncated file: metadata key 2 ends past the end of the file (starts at byte 100)"),
            (file.dataOffset - 40, "truncated file: tensor"),
        ]
        for (cut, expected) in cases {
            let error = try openError(Array(bytes[..<cut]))
            XCTAssertTrue(error?.description.hasPrefix(expected) == true,
                          "cut at \(cut): got '\(error?.description ?? "no error")', expected '\(expected)…'")
        }
        // Inside the string array: the count still fits, an element does not.
        let tokensAt = try XCTUnwrap(find(Array("tokenizer.ggml.tokens".utf8), in: bytes))
        // key, value type, element type, count, then "a" and "b" whole and "c" missing its one byte.
        let cut = tokensAt + 21 + 4 + 4 + 8 + 9 + 9 + 8
        guard case .truncated(let what, _)? = try openError(Array(bytes[..<cut])) else {
            return XCTFail("cut inside the array: expected truncated")
        }
        XCTAssertEqual(what, "metadata key 'tokenizer.ggml.tokens'")

        // Data section cut short: the last tensor runs past the end.
        let short = try openError(Array(bytes[..<(bytes.count - 40)]))
        guard case .tensorPastEnd(let name, _, let size, let fileSize)? = short else {
            return XCTFail("expected tensorPastEnd, got \(String(describing: short))")
        }
        XCTAssertEqual(name, "blk.0.w")
        XCTAssertEqual(size, 68)
        XCTAssertEqual(fileSize, bytes.count - 40)
        XCTAssertTrue(short!.description.hasPrefix("tensor 'blk.0.w': data runs past the end of the file (offset "))
    }

    func testEveryTruncationAndByteFlipFailsCleanly() throws {
        let bytes = try smallWriter().encoded()
        let url = try temp([])
        // Every cut before the last tensor's final byte (the padding after it
        // is optional): always a GGUFError, never a crash.
        let last = try XCTUnwrap(GGUFFile(url: try temp(bytes)).tensors.last)
        for cut in 0..<(last.offset + last.byteCount) {
            try Data(bytes[..<cut]).write(to: url)
            XCTAssertThrowsError(try GGUFFile(url: url), "cut at \(cut)") { error in
                XCTAssertTrue(error is GGUFError, "cut at \(cut): \(error)")
            }
        }
        // Every single-byte corruption: opens or throws a GGUFError, never crashes.
        for i in 0..<bytes.count {
            var corrupt = bytes
            corrupt[i] ^= 0xFF
            try Data(corrupt).write(to: url)
            do {
                let file = try GGUFFile(url: url)
                _ = file.metadata.values.compactMap { $0.arrayValue?.values() }
            } catch {
                XCTAssertTrue(error is GGUFError, "flip at \(i): \(error)")
            }
        }
    }

    func testUnknownTensorTypeAndPartialBlocks() throws {
        var w = GGUFWriter()
        w.addTensor(name: "odd", dims: [32], rawType: 99, bytes: [UInt8](repeating: 0, count: 32))
        XCTAssertEqual(try openError(w.encoded()), .unknownTensorType(tensor: "odd", raw: 99))

        w = GGUFWriter()
        w.addTensor(name: "blk.0.attn_q.weight", dims: [48, 2], rawType: GGMLType.q4_0.rawValue,
                    bytes: [UInt8](repeating: 0, count: 64))
        let e = try openError(w.encoded())
        XCTAssertEqual(e, .rowNotWholeBlocks(tensor: "blk.0.attn_q.weight", ne0: 48, type: .q4_0))
        XCTAssertEqual(e?.description,
                       "tensor 'blk.0.attn_q.weight': row length ne[0] = 48 is not a multiple of Q4_0's block size 32")

        w = GGUFWriter()
        w.addTensor(name: "five", dims: [1, 1, 1, 1, 1], rawType: 0, bytes: [0, 0, 0, 0])
        XCTAssertEqual(try openError(w.encoded()), .badDimensionCount(tensor: "five", count: 5))

        w = GGUFWriter()
        w.addTensor(name: "zero", dims: [4, 0], rawType: 0, bytes: [])
        XCTAssertEqual(try openError(w.encoded()), .badDimension(tensor: "zero", index: 1, value: 0))

        // Writer refuses wrong sizes itself.
        var checked = GGUFWriter()
        XCTAssertThrowsError(try checked.addTensor(name: "x", dims: [32], type: .q8_0, bytes: [0]))
    }

    func testTensorBytesPastTheEnd() throws {
        var w = GGUFWriter()
        // Claims 2^40 rows of F32: the size is representable but far beyond the file.
        w.addTensor(name: "huge", dims: [1024, 1 << 40], rawType: 0, bytes: [UInt8](repeating: 0, count: 64))
        guard case .tensorPastEnd(let name, _, _, _)? = try openError(w.encoded()) else {
            return XCTFail("expected tensorPastEnd")
        }
        XCTAssertEqual(name, "huge")
        // And a byte size that overflows Int.
        w = GGUFWriter()
        w.addTensor(name: "overflow", dims: [1 << 40, 1 << 40], rawType: 0, bytes: [])
        XCTAssertEqual(try openError(w.encoded()), .tensorTooLarge(tensor: "overflow"))
    }

    func testAlignmentMustBeAPowerOfTwo() throws {
        var w = try smallWriter()
        w.set("general.alignment", .uint32(3))
        let e = try openError(w.encoded())
        XCTAssertEqual(e, .badAlignment("3"))
        XCTAssertEqual(e?.description, "general.alignment is 3: it must be a power of 2")
        w.set("general.alignment", .uint32(0))
        XCTAssertEqual(try openError(w.encoded()), .badAlignment("0"))
    }

    func testMisalignedTensorOffset() throws {
        var bytes = try smallWriter().encoded()
        // The last tensor info's u64 offset sits just before the header padding.
        let name = Array("blk.0.w".utf8)
        let at = try XCTUnwrap(find(name, in: bytes)) + name.count + 4 + 16 + 4
        bytes[at] &+= 1
        guard case .misalignedTensor(let tensor, _, 32)? = try openError(bytes) else {
            return XCTFail("expected misalignedTensor")
        }
        XCTAssertEqual(tensor, "blk.0.w")
    }

    func testHugeCountsFailWithoutAllocating() throws {
        let header = Array("GGUF".utf8) + le(UInt32(3))
        // Tensor count 2^60 in a 40-byte file.
        let e1 = try openError(header + le(UInt64(1) << 60) + le(UInt64(0)) + [UInt8](repeating: 0, count: 16))
        guard case .countTooLarge(let what, _, _)? = e1 else { return XCTFail("tensor count") }
        XCTAssertEqual(what, "tensor count")
        // Metadata key count UInt64.max.
        guard case .countTooLarge(let what2, _, _)? = try openError(header + le(UInt64(0)) + le(UInt64.max)) else {
            return XCTFail("key count")
        }
        XCTAssertEqual(what2, "metadata key count")
        // A string array claiming 2^62 elements.
        let key = Array("tokenizer.ggml.tokens".utf8)
        let body = le(UInt64(key.count)) + key + le(UInt32(9)) + le(UInt32(8)) + le(UInt64(1) << 62)
        guard case .countTooLarge(let what3, let count, _)? =
                try openError(header + le(UInt64(0)) + le(UInt64(1)) + body + [UInt8](repeating: 0, count: 8)) else {
            return XCTFail("array count")
        }
        XCTAssertEqual(what3, "element count of metadata key 'tokenizer.ggml.tokens'")
        XCTAssertEqual(count, 1 << 62)
        // A string whose length is 2^63.
        let longString = le(UInt64(1) << 63) + Array("abc".utf8) + [UInt8](repeating: 0, count: 16)
        guard case .truncated(let what4, _)? = try openError(header + le(UInt64(0)) + le(UInt64(1)) + longString) else {
            return XCTFail("string length")
        }
        XCTAssertEqual(what4, "metadata key 0")
    }

    func testUnknownValueTypeAndBadBool() throws {
        let header = Array("GGUF".utf8) + le(UInt32(3)) + le(UInt64(0)) + le(UInt64(1))
        let key = le(UInt64(1)) + Array("k".utf8)
        XCTAssertEqual(try openError(header + key + le(UInt32(13)) + [0, 0, 0, 0]),
                       .unknownValueType(what: "type of metadata key 'k'", raw: 13))
        XCTAssertEqual(try openError(header + key + le(UInt32(7)) + [2]),
                       .invalidBool(what: "metadata key 'k'", byte: 2))
    }

    // MARK: Byte helpers

    private func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}
