import Foundation
import LMEngine
import XCTest

/// Thousands of broken GGUF files, made deterministically from the small
/// valid files in `GGUFSeeds`. Each must either load — `GGUFFile(url:)`, its
/// lazy arrays, the tokenizer and, where it is a model, `ModelLoader` and one
/// forward pass — or throw a typed one-line error (`GGUFError`, `ModelError`,
/// `TokenizerError`). A crash or trap ends the test process, which names no
/// case; the label of the case under way is printed first when
/// LMLAB_MUTATION_TRACE=1, to find it.
///
/// Mutations, for each seed, from a map of its fields:
///   - truncation at every field boundary (at the start, one byte in, one byte short)
///   - every count, string length and dimension set to values from 0 to 2^64−1
///   - every value type, tensor type, n_dims and tensor offset set to wrong values
///   - every integer metadata value set to edge values (0, max, 2^24+1, …)
///   - invalid UTF-8 written into every string (keys, values, tokens, tensor names)
///   - general.alignment set to values that are not a power of two
///   - random bit flips and 8-byte smashes over the whole file (seeded)
/// and arrays nested from 1 to 10,000 deep.
///
/// Allocation bound: the reader refuses any count whose smallest encoding
/// does not fit in the bytes left, and a model checks every width it sizes a
/// buffer by against a tensor in the file, so nothing allocated grows with a
/// corrupt figure. The test states it as: peak resident memory (VmHWM, reset
/// at the start) stays within 256 MiB of where it started. (Not checked under
/// a sanitizer, whose shadow memory and quarantine count as resident.)
final class GGUFMutationTests: XCTestCase {
    static let peakBound = 256 << 20

    override func tearDown() {
        try? FileManager.default.removeItem(at: GGUFLoadHarness.url)
        super.tearDown()
    }

    func testTenThousandMutatedFilesLoadOrFailCleanly() throws {
        let seeds = try GGUFSeeds.all()
        var mutations: [(label: String, bytes: [UInt8])] = []
        for seed in seeds {
            // The seeds themselves must load, or the test would prove nothing.
            let outcome = try GGUFLoadHarness.run(seed.bytes)
            XCTAssertEqual(outcome, .loaded, "seed \(seed.name) must load")
            mutations += Mutator(seed: seed.bytes, name: seed.name).all()
        }
        mutations += Mutator.nestedArrays()
        XCTAssertGreaterThanOrEqual(mutations.count, 10_000)

        let trace = ProcessInfo.processInfo.environment["LMLAB_MUTATION_TRACE"] == "1"
        let baseline = Memory.resetPeak()
        var counts: [GGUFLoadHarness.Outcome: Int] = [:]
        var errorKinds: [String: Int] = [:]
        for (label, bytes) in mutations {
            if trace { FileHandle.standardError.write(Data("case \(label)\n".utf8)) }
            do {
                let outcome = try GGUFLoadHarness.run(bytes)
                counts[outcome, default: 0] += 1
            } catch {
                counts[.failed, default: 0] += 1
                let kind = "\(type(of: error))"
                errorKinds[kind, default: 0] += 1
                let message = "\(error)"
                guard error is GGUFError || error is ModelError || error is TokenizerError else {
                    XCTFail("\(label): untyped error \(kind): \(message)")
                    continue
                }
                // One readable line: names from the file can be binary junk of any length.
                let hasControl = message.unicodeScalars.contains { $0.properties.generalCategory == .control }
                XCTAssertFalse(message.isEmpty || hasControl || message.count > 400,
                               "\(label): error must be one short line: \(message.debugDescription.prefix(500))")
            }
        }
        let loaded = counts[.loaded, default: 0], failed = counts[.failed, default: 0]
        print("GGUF mutations: \(mutations.count) files, \(loaded) loaded, \(failed) failed with \(errorKinds)")
        // Both outcomes happen in bulk: a harness that threw on everything (or
        // nothing) would be testing nothing.
        XCTAssertGreaterThan(loaded, 1_000)
        XCTAssertGreaterThan(failed, 5_000)
        XCTAssertGreaterThan(errorKinds["GGUFError", default: 0], 3_000)
        XCTAssertGreaterThan(errorKinds["ModelError", default: 0], 100)

        if let baseline, !Memory.underSanitizer, let peak = Memory.status("VmHWM") {
            XCTAssertLessThan(peak - baseline, GGUFMutationTests.peakBound,
                              "peak resident memory grew by \(peak - baseline) bytes")
        }
    }

    /// The deepest nesting the reader accepts, and one more.
    func testNestingLimit() throws {
        for depth in [GGUFArray.maxNesting, GGUFArray.maxNesting + 1] {
            let url = try GGUFLoadHarness.write(Mutator.nestedArray(depth: depth))
            if depth <= GGUFArray.maxNesting {
                XCTAssertNoThrow(try GGUFFile(url: url))
            } else {
                XCTAssertThrowsError(try GGUFFile(url: url)) { error in
                    XCTAssertEqual(error as? GGUFError, .arrayNestingTooDeep(what: "metadata key 'deep'"))
                }
            }
        }
    }
}

// MARK: - Running one file

/// Loads one file's bytes as far as it goes; shared with FuzzRegressionTests.
enum GGUFLoadHarness {
    enum Outcome: Hashable { case loaded, failed }

    /// In memory-backed /dev/shm where there is one: thousands of small writes
    /// to a disk shared with builds take seconds each hundred.
    static let url = URL(fileURLWithPath: FileManager.default.fileExists(atPath: "/dev/shm")
                         ? "/dev/shm" : FileManager.default.temporaryDirectory.path)
        .appendingPathComponent("lmlab-mutation-\(getpid()).gguf")

    /// Writes by rename, so a mapping of the previous case (if anything kept
    /// one) never sees its file change under it.
    static func write(_ bytes: [UInt8]) throws -> URL {
        try Data(bytes).write(to: url, options: .atomic)
        return url
    }

    /// Loads `bytes` as far as it goes. Returns `.loaded` when everything
    /// worked; rethrows the loader's error otherwise.
    static func run(_ bytes: [UInt8]) throws -> Outcome {
        let file = try GGUFFile(url: try write(bytes))
        // Everything lazy gets decoded: arrays (nested ones too) and tensor data.
        for key in file.metadataKeys {
            if let array = file.metadata[key]?.arrayValue { touch(array) }
        }
        for tensor in file.tensors where tensor.byteCount > 0 {
            let p = file.pointer(to: tensor)
            _ = (p.load(as: UInt8.self), p.load(fromByteOffset: tensor.byteCount - 1, as: UInt8.self))
        }
        guard file.metadata["tokenizer.ggml.model"] != nil else { return .loaded }
        let tokenizer = try TokenizerFactory.make(from: file)
        let ids = tokenizer.encode("hello, world! naïve <|im_end|><end_of_turn> abc\n", addBOS: true, parseSpecial: true)
        _ = tokenizer.decode(ids)
        for id in ids { _ = tokenizer.piece(id) }
        guard file.metadata["general.architecture"] != nil else { return .loaded }
        let model = try ModelLoader.load(url: url, threads: 1)
        let prompt = Array(ids.prefix(5))
        guard !prompt.isEmpty else { return .loaded }
        try model.forward(prompt, logitsFrom: 0) { _, logits in _ = logits.max() }
        return .loaded
    }

    /// Decodes every element in every way asked of an array, recursively.
    static func touch(_ array: GGUFArray, depth: Int = 0) {
        _ = array.strings(); _ = array.floats(); _ = array.int32s()
        for value in array.values() {
            if let inner = value.arrayValue, depth < 16 { touch(inner, depth: depth + 1) }
        }
    }
}

// MARK: - Memory

private enum Memory {
    /// A field of /proc/self/status in bytes ("VmHWM", "VmRSS").
    static func status(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return nil
    }

    /// Resets the peak (writing 5 to clear_refs, Linux ≥ 4.0) and returns the
    /// current resident size, or nil where that is not possible.
    static func resetPeak() -> Int? {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return nil }
        defer { try? handle.close() }
        guard (try? handle.write(contentsOf: Data("5".utf8))) != nil else { return nil }
        return status("VmRSS")
    }

    /// Whether AddressSanitizer or ThreadSanitizer is linked in.
    static var underSanitizer: Bool {
        let program = dlopen(nil, RTLD_NOW)
        return dlsym(program, "__asan_init") != nil || dlsym(program, "__tsan_init") != nil
    }
}

// MARK: - Making mutations

/// One field of a valid file, found by walking it.
private struct Field {
    enum Kind {
        case magic, version, count, stringLength, stringBytes, valueType, elementType
        case scalar(GGUFValueType), arrayBody, nDims, dimension, tensorType, tensorOffset
    }
    let kind: Kind
    let offset: Int
    let size: Int
}

private struct Mutator {
    let seed: [UInt8]
    let name: String
    let fields: [Field]

    init(seed: [UInt8], name: String) {
        self.seed = seed
        self.name = name
        fields = FieldWalker.walk(seed)
    }

    func all() -> [(label: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = []
        func add(_ label: String, _ bytes: [UInt8]) { out.append(("\(name) \(label)", bytes)) }

        // Truncations at every field boundary.
        var cuts = Set<Int>()
        for f in fields { cuts.formUnion([f.offset, f.offset + 1, f.offset + f.size - 1]) }
        cuts.formUnion([seed.count - 1, seed.count / 2, 0])
        for cut in cuts.sorted() where cut < seed.count { add("cut at \(cut)", Array(seed[..<cut])) }

        for (i, f) in fields.enumerated() {
            let at = "field \(i) at \(f.offset)"
            switch f.kind {
            case .magic:
                for v: UInt32 in [0, 0x4655_4747, 0x4647_5547] { add("\(at) magic \(v)", patched(f, UInt64(v))) }
            case .version:
                for v: UInt32 in [0, 1, 2, 3, 4, .max] { add("\(at) version \(v)", patched(f, UInt64(v))) }
            case .count, .stringLength:
                let v = read(f)
                let remaining = UInt64(seed.count - f.offset - f.size)
                for n: UInt64 in [0, 1, v &- 1, v &+ 1, v &* 2, remaining, remaining + 1, 0x7FFF_FFFF, 0xFFFF_FFFF,
                                  1 << 32, 1 << 40, 1 << 62, 1 << 63, .max] {
                    add("\(at) count \(n)", patched(f, n))
                }
            case .valueType, .elementType:
                for t: UInt32 in Array(0...13) + [0xFFFF_FFFF] { add("\(at) type \(t)", patched(f, UInt64(t))) }
            case .nDims:
                for n: UInt32 in [0, 1, 2, 3, 4, 5, .max] { add("\(at) n_dims \(n)", patched(f, UInt64(n))) }
            case .dimension:
                let v = read(f)
                for n: UInt64 in [0, 1, 2, 31, 33, v &+ 1, v &* 2, v &* 256, 1 << 31, 1 << 32, 1 << 40, 1 << 62,
                                  1 << 63, .max] {
                    add("\(at) dim \(n)", patched(f, n))
                }
            case .tensorType:
                for t: UInt32 in Array(0...40) + [.max] { add("\(at) ggml type \(t)", patched(f, UInt64(t))) }
            case .tensorOffset:
                let v = read(f)
                for n: UInt64 in [0, v &+ 1, v &+ 32, v &- 32, UInt64(seed.count), UInt64(seed.count) * 2,
                                  1 << 62, .max] {
                    add("\(at) offset \(n)", patched(f, n))
                }
            case .scalar(let type):
                // Model figures (block count, widths, ids, the alignment) are scalars: edge values.
                let values: [UInt64] = type == .bool ? [0, 1, 2, 0xFF]
                    : [0, 1, 2, 3, 24, 48, 1 << 15, (1 << 24) + 1, 1 << 31, UInt64.max >> 1, .max, read(f) &* 2]
                for n in values { add("\(at) value \(n)", patched(f, n)) }
            case .stringBytes where f.size > 0:
                // Invalid UTF-8: a stray byte, a cut sequence, a surrogate, an overlong NUL, past U+10FFFF.
                for (k, junk) in [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xF4, 0x90, 0x80, 0x80]].enumerated()
                where junk.count <= f.size {
                    var b = seed
                    b.replaceSubrange(f.offset..<f.offset + junk.count, with: junk.map(UInt8.init))
                    add("\(at) invalid utf-8 \(k)", b)
                }
            case .stringBytes, .arrayBody:
                break
            }
        }

        // Random bit flips and 8-byte smashes anywhere, seeded by the seed's name.
        var rng = SeededGenerator(seed: UInt64(name.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }.magnitude))
        for k in 0..<1_000 {
            var b = seed
            let flips = 1 + Int(rng.next() % 3)
            for _ in 0..<flips {
                let i = Int(rng.next() % UInt64(b.count))
                b[i] ^= 1 << UInt8(rng.next() % 8)
            }
            add("bit flips #\(k)", b)
        }
        for k in 0..<300 {
            var b = seed
            let i = Int(rng.next() % UInt64(b.count - 8))
            let smash: UInt64 = [0, .max, 1 << 63, 0x8000_0000, rng.next()][Int(rng.next() % 5)]
            withUnsafeBytes(of: smash.littleEndian) { b.replaceSubrange(i..<i + 8, with: $0) }
            add("smash #\(k) at \(i)", b)
        }
        return out
    }

    private func read(_ f: Field) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<min(f.size, 8) { v |= UInt64(seed[f.offset + k]) << (8 * k) }
        return v
    }

    /// The seed with the field set to `value` (its low bytes, little-endian).
    private func patched(_ f: Field, _ value: UInt64) -> [UInt8] {
        var b = seed
        for k in 0..<min(f.size, 8) { b[f.offset + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
        return b
    }

    /// Files whose one key is arrays nested 1…12 deep, then 100 and 10,000 deep
    /// (each level one element), and a nest whose innermost count is huge.
    static func nestedArrays() -> [(label: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = []
        for depth in Array(1...12) + [100, 10_000] { out.append(("nested \(depth)", nestedArray(depth: depth))) }
        var huge = nestedArray(depth: 3)
        let countAt = huge.count - 1 - 8   // the innermost u8 array's count: before its one byte
        for k in 0..<8 { huge[countAt + k] = 0xFF }
        out.append(("nested 3, innermost count 2^64-1", huge))
        return out
    }

    /// A GGUF file with key "deep": `depth` arrays, each holding one array,
    /// the innermost holding one u8.
    static func nestedArray(depth: Int) -> [UInt8] {
        var b = Array("GGUF".utf8)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        put(UInt32(3)); put(UInt64(0)); put(UInt64(1))
        put(UInt64(4)); b += Array("deep".utf8)
        put(GGUFValueType.array.rawValue)
        for _ in 1..<depth { put(GGUFValueType.array.rawValue); put(UInt64(1)) }
        put(GGUFValueType.uint8.rawValue); put(UInt64(1)); b.append(7)
        return b
    }
}

/// Walks a valid GGUF file and records where each field is. It trusts the
/// file (the seeds are valid); the reader under test is not used.
private enum FieldWalker {
    static func walk(_ b: [UInt8]) -> [Field] {
        var fields: [Field] = []
        var p = 0
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
        func field(_ kind: Field.Kind, _ size: Int) { fields.append(Field(kind: kind, offset: p, size: size)); p += size }
        func string() {
            let length = u64(p)
            field(.stringLength, 8)
            field(.stringBytes, length)
        }
        func value(_ type: GGUFValueType) {
            switch type {
            case .string: string()
            case .array:
                let element = GGUFValueType(rawValue: UInt32(u32(p)))!
                field(.elementType, 4)
                let count = u64(p)
                field(.count, 8)
                if let size = element.fixedSize {
                    field(.arrayBody, count * size)
                } else {
                    for _ in 0..<count { value(element) }
                }
            default: field(.scalar(type), type.fixedSize!)
            }
        }
        field(.magic, 4)
        field(.version, 4)
        let tensorCount = u64(p); field(.count, 8)
        let keyCount = u64(p); field(.count, 8)
        for _ in 0..<keyCount {
            string()
            let type = GGUFValueType(rawValue: UInt32(u32(p)))!
            field(.valueType, 4)
            value(type)
        }
        for _ in 0..<tensorCount {
            string()
            let nDims = u32(p); field(.nDims, 4)
            for _ in 0..<nDims { field(.dimension, 8) }
            field(.tensorType, 4)
            field(.tensorOffset, 8)
        }
        return fields
    }
}
