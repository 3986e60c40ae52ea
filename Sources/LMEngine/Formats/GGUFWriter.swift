import Foundation

/// Builds a GGUF v3 file: metadata of any type, then tensors with their raw
/// bytes, each placed at a multiple of the alignment.
///
/// The alignment is `general.alignment` when that key is set to an integer
/// greater than 0, else 32. The writer checks tensors added with a `GGMLType`
/// but deliberately not values set by the caller, so tests can write the
/// corrupt files a reader must reject (`addTensor(name:dims:rawType:bytes:)`
/// writes any type number).
public struct GGUFWriter {
    public struct Tensor {
        public var name: String
        public var dims: [Int]
        public var rawType: UInt32
        public var bytes: [UInt8]
    }

    /// Written into the header as-is (tests set other numbers).
    public var version: UInt32 = 3
    /// In insertion order; `set` replaces in place.
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    public private(set) var tensors: [Tensor] = []

    public init() {}

    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i].value = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Adds a tensor after checking that `bytes` is exactly what `dims`
    /// (`[ne0, ne1, …]`) and `type` need.
    public mutating func addTensor(name: String, dims: [Int], type: GGMLType, bytes: [UInt8]) throws {
        guard let first = dims.first, let rowBytes = type.rowBytes(first) else {
            throw GGUFError.rowNotWholeBlocks(tensor: name, ne0: dims.first ?? 0, type: type)
        }
        let expected = dims.dropFirst().reduce(rowBytes, *)
        guard expected == bytes.count else {
            throw GGUFError.wrongDataSize(tensor: name, expected: expected, actual: bytes.count)
        }
        tensors.append(Tensor(name: name, dims: dims, rawType: type.rawValue, bytes: bytes))
    }

    /// Adds a tensor without any check, for writing corrupt test files.
    public mutating func addTensor(name: String, dims: [Int], rawType: UInt32, bytes: [UInt8]) {
        tensors.append(Tensor(name: name, dims: dims, rawType: rawType, bytes: bytes))
    }

    public var alignment: Int {
        if let a = metadata.last(where: { $0.key == "general.alignment" })?.value.intValue, a > 0 { return a }
        return GGUFFile.defaultAlignment
    }

    private func padding(_ position: Int) -> Int { (alignment - position % alignment) % alignment }

    /// Header, metadata and tensor infos, padded up to the data section.
    public func encodedHeader() -> [UInt8] {
        var out = ByteSink()
        out.bytes.append(contentsOf: Array("GGUF".utf8))
        out.put(version)
        out.put(UInt64(tensors.count))
        out.put(UInt64(metadata.count))
        for (key, value) in metadata {
            out.putString(key)
            out.put(value.type.rawValue)
            out.putValue(value)
        }
        var relative = 0
        for t in tensors {
            out.putString(t.name)
            out.put(UInt32(t.dims.count))
            for ne in t.dims { out.put(UInt64(ne)) }
            out.put(t.rawType)
            out.put(UInt64(relative))
            relative += t.bytes.count
            relative += padding(relative)
        }
        out.bytes.append(contentsOf: repeatElement(0, count: padding(out.bytes.count)))
        return out.bytes
    }

    /// The whole file in memory.
    public func encoded() -> [UInt8] {
        var out = encodedHeader()
        for t in tensors {
            out.append(contentsOf: t.bytes)
            out.append(contentsOf: repeatElement(0, count: padding(t.bytes.count)))
        }
        return out
    }

    /// Writes the file, streaming tensor data rather than building it all in memory.
    public func write(to url: URL) throws {
        // Data.write, not FileManager.createFile: its error keeps the cause (no space, no permission).
        try Data(encodedHeader()).write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        for t in tensors {
            try handle.write(contentsOf: t.bytes)
            try handle.write(contentsOf: [UInt8](repeating: 0, count: padding(t.bytes.count)))
        }
    }
}

/// Little-endian byte appender for the writer.
private struct ByteSink {
    var bytes: [UInt8] = []

    mutating func put<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func putString(_ s: String) {
        put(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }

    mutating func putValue(_ value: GGUFValue) {
        switch value {
        case let .uint8(v): put(v)
        case let .int8(v): put(v)
        case let .uint16(v): put(v)
        case let .int16(v): put(v)
        case let .uint32(v): put(v)
        case let .int32(v): put(v)
        case let .uint64(v): put(v)
        case let .int64(v): put(v)
        case let .float32(v): put(v.bitPattern)
        case let .float64(v): put(v.bitPattern)
        case let .bool(v): put(UInt8(v ? 1 : 0))
        case let .string(s): putString(s)
        case let .array(a):
            put(a.elementType.rawValue)
            put(UInt64(a.count))
            if let raw = a.mappedBytes {
                // Read from a file: the encoding is identical, copy it whole.
                bytes.append(contentsOf: raw)
            } else {
                for element in a.values() { putValue(element) }
            }
        }
    }
}
