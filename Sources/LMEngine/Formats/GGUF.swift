import Foundation

/// One tensor's entry in a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// `[ne0, ne1, …]`: ne0 is the row length (innermost, contiguous), so a
    /// `[vocab, dim]` embedding in PyTorch appears here as `[dim, vocab]`.
    public let dims: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the data in the file (data section start + relative offset).
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { dims.reduce(1, *) }
    /// Rows of `dims[0]` elements.
    public var rowCount: Int { elementCount / dims[0] }
}

/// A GGUF v2/v3 file, memory-mapped and validated.
///
/// Layout (little-endian): `"GGUF" | u32 version | u64 tensor count |
/// u64 metadata count | metadata | tensor infos | padding | tensor data`.
/// Tensor data is never copied: `pointer(to:)` points into the mapping,
/// which lives as long as this object.
public final class GGUFFile: @unchecked Sendable {
    public static let defaultAlignment = 32

    public let url: URL
    public let version: UInt32
    /// Every tensor's data offset (relative to `dataOffset`) is a multiple of this.
    public let alignment: Int
    /// Start of the tensor data section: the end of the tensor infos, rounded up to `alignment`.
    public let dataOffset: Int
    public let fileSize: Int
    /// Scalars and strings decoded; arrays lazy (`GGUFArray`).
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// The mapping the tensor pointers point into.
    public let mapping: MappedFile

    private let tensorIndex: [String: Int]

    /// Opens, maps and validates `url`. Throws `GGUFError`.
    public init(url: URL) throws {
        self.url = url
        let file = try MappedFile(path: url.path)
        mapping = file
        fileSize = file.size
        var reader = GGUFReader(file: file)

        // Magic: compare what is there before complaining about length, so a
        // 2-byte text file reads as "not GGUF", not "truncated".
        let magic = Array(file.bytes(0..<min(4, file.size)))
        guard magic.elementsEqual(Array("GGUF".utf8).prefix(magic.count)) else {
            throw GGUFError.notGGUF(magic: GGUFFile.escaped(magic))
        }
        try reader.take(4, "magic")

        version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(version) }

        let tensorCount = try reader.readCount("tensor count")
        let keyCount = try reader.readCount("metadata key count")
        // Smallest entries: a key is u64 length + u32 type + 1-byte value; a
        // tensor info is u64 name length + u32 n_dims + u32 type + u64 offset.
        guard keyCount <= UInt64(reader.remaining / 13) else {
            throw GGUFError.countTooLarge(what: "metadata key count", count: keyCount, remaining: reader.remaining)
        }
        guard tensorCount <= UInt64(reader.remaining / 24) else {
            throw GGUFError.countTooLarge(what: "tensor count", count: tensorCount, remaining: reader.remaining)
        }

        // Metadata.
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        metadata.reserveCapacity(Int(keyCount))
        keys.reserveCapacity(Int(keyCount))
        for i in 0..<Int(keyCount) {
            let key = try reader.readString("metadata key \(i)")
            let type = try reader.readValueType("type of metadata key '\(key)'")
            let value = try reader.readValue(type, what: "metadata key '\(key)'")
            guard metadata.updateValue(value, forKey: key) == nil else { throw GGUFError.duplicateKey(key) }
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys

        alignment = try GGUFFile.alignment(in: metadata)

        // Tensor infos: checked one by one, offsets resolved once the data section start is known.
        var pending: [(name: String, dims: [Int], type: GGMLType, byteCount: Int, relative: UInt64)] = []
        pending.reserveCapacity(Int(tensorCount))
        for i in 0..<Int(tensorCount) {
            let name = try reader.readString("tensor info \(i) name")
            let nDims = try reader.read(UInt32.self, "tensor '\(name)' n_dims")
            guard (1...4).contains(nDims) else { throw GGUFError.badDimensionCount(tensor: name, count: nDims) }
            var dims: [Int] = []
            for d in 0..<Int(nDims) {
                let ne = try reader.read(UInt64.self, "tensor '\(name)' ne[\(d)]")
                guard ne > 0, ne <= UInt64(Int.max) else {
                    throw GGUFError.badDimension(tensor: name, index: d, value: ne)
                }
                dims.append(Int(ne))
            }
            let rawType = try reader.read(UInt32.self, "tensor '\(name)' type")
            guard let type = GGMLType(rawValue: rawType) else {
                throw GGUFError.unknownTensorType(tensor: name, raw: rawType)
            }
            guard dims[0] % type.blockSize == 0 else {
                throw GGUFError.rowNotWholeBlocks(tensor: name, ne0: dims[0], type: type)
            }
            guard let rowBytes = type.rowBytes(dims[0]) else { throw GGUFError.tensorTooLarge(tensor: name) }
            // byteCount = rowBytes × ne1 × ne2 × ne3, refusing any overflow.
            var byteCount = rowBytes
            var elements = dims[0]
            for ne in dims.dropFirst() {
                let (b, o1) = byteCount.multipliedReportingOverflow(by: ne)
                let (e, o2) = elements.multipliedReportingOverflow(by: ne)
                guard !o1, !o2 else { throw GGUFError.tensorTooLarge(tensor: name) }
                byteCount = b
                elements = e
            }
            let relative = try reader.read(UInt64.self, "tensor '\(name)' offset")
            guard relative % UInt64(alignment) == 0 else {
                throw GGUFError.misalignedTensor(tensor: name, offset: relative, alignment: alignment)
            }
            pending.append((name, dims, type, byteCount, relative))
        }

        // The data section starts at the next multiple of the alignment.
        let end = reader.position
        dataOffset = end + (alignment - end % alignment) % alignment

        var tensors: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        tensors.reserveCapacity(pending.count)
        for t in pending {
            let start = dataOffset.addingReportingOverflow(Int(clamping: t.relative))
            let stop = start.partialValue.addingReportingOverflow(t.byteCount)
            guard !start.overflow, !stop.overflow, t.relative <= UInt64(Int.max), stop.partialValue <= fileSize else {
                throw GGUFError.tensorPastEnd(tensor: t.name, offset: Int(clamping: t.relative) &+ dataOffset,
                                              size: t.byteCount, fileSize: fileSize)
            }
            guard index.updateValue(tensors.count, forKey: t.name) == nil else {
                throw GGUFError.duplicateTensor(t.name)
            }
            tensors.append(GGUFTensorInfo(name: t.name, dims: t.dims, type: t.type,
                                          offset: start.partialValue, byteCount: t.byteCount))
        }
        self.tensors = tensors
        tensorIndex = index
    }

    /// `general.alignment`: any unsigned integer type, a power of 2; 32 when absent.
    private static func alignment(in metadata: [String: GGUFValue]) throws -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard let a = value.intValue else {
            throw GGUFError.wrongType(key: "general.alignment", expected: "an integer", actual: value.type.name)
        }
        guard a > 0, a & (a - 1) == 0, a <= 1 << 30 else { throw GGUFError.badAlignment(String(a)) }
        return a
    }

    /// Bytes shown as text with non-printable ones escaped: `PK\u{3}\u{4}`.
    static func escaped(_ bytes: [UInt8]) -> String {
        bytes.map { b in
            (0x20..<0x7F).contains(b) && b != 0x27 && b != 0x5C
                ? String(UnicodeScalar(b)) : "\\u{\(String(b, radix: 16))}"
        }.joined()
    }

    // MARK: Tensors

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's first byte inside the mapping; valid while this file is alive.
    public func pointer(to tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        precondition(tensor.offset >= 0 && tensor.offset + tensor.byteCount <= fileSize,
                     "tensor '\(tensor.name)' is not from this file")
        return mapping.base + tensor.offset
    }

    // MARK: Typed metadata access (throwing GGUFError naming the key)

    public func value(_ key: String) throws -> GGUFValue {
        guard let v = metadata[key] else { throw GGUFError.missingKey(key) }
        return v
    }

    public func string(_ key: String) throws -> String {
        let v = try value(key)
        guard let s = v.stringValue else { throw wrongType(key, "a string", v) }
        return s
    }

    /// Any integer type, when it fits in `Int`.
    public func int(_ key: String) throws -> Int {
        let v = try value(key)
        guard let i = v.intValue else {
            if v.type.fixedSize != nil, v.floatValue == nil, v.boolValue == nil {
                throw GGUFError.valueOutOfRange(key: key, value: v.summary)
            }
            throw wrongType(key, "an integer", v)
        }
        return i
    }

    /// f32 or f64.
    public func float(_ key: String) throws -> Float {
        let v = try value(key)
        guard let f = v.floatValue else { throw wrongType(key, "a float", v) }
        return f
    }

    public func bool(_ key: String) throws -> Bool {
        let v = try value(key)
        guard let b = v.boolValue else { throw wrongType(key, "a bool", v) }
        return b
    }

    public func array(_ key: String) throws -> GGUFArray {
        let v = try value(key)
        guard let a = v.arrayValue else { throw wrongType(key, "an array", v) }
        return a
    }

    public func stringArray(_ key: String) throws -> [String] {
        let a = try array(key)
        guard let s = a.strings() else { throw wrongType(key, "an array of strings", .array(a)) }
        return s
    }

    public func floatArray(_ key: String) throws -> [Float] {
        let a = try array(key)
        guard let f = a.floats() else { throw wrongType(key, "an array of floats", .array(a)) }
        return f
    }

    public func int32Array(_ key: String) throws -> [Int32] {
        let a = try array(key)
        guard let i = a.int32s() else { throw wrongType(key, "an array of int32", .array(a)) }
        return i
    }

    private func wrongType(_ key: String, _ expected: String, _ v: GGUFValue) -> GGUFError {
        let actual = v.arrayValue.map { "an array of \($0.elementType.name)" } ?? v.type.name
        return GGUFError.wrongType(key: key, expected: expected, actual: actual)
    }
}
