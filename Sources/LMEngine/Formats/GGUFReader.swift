/// A bounds-checked little-endian cursor over a mapped file.
///
/// Every read names what it is reading, so running off the end becomes
/// `GGUFError.truncated` with that name and the offset where it started.
struct GGUFReader {
    let file: MappedFile
    var position: Int

    init(file: MappedFile, position: Int = 0) {
        self.file = file
        self.position = position
    }

    var remaining: Int { file.size - position }

    /// Checks that `count` bytes are left, then returns their start and moves past them.
    @discardableResult
    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> Int {
        guard count >= 0, count <= remaining else {
            throw GGUFError.truncated(what: what(), offset: position)
        }
        let start = position
        position += count
        return start
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let start = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: file.base.loadUnaligned(fromByteOffset: start, as: T.self))
    }

    /// A u64 length or count, which must also fit in `Int`.
    mutating func readCount(_ what: @autoclosure () -> String) throws -> UInt64 {
        try read(UInt64.self, what())
    }

    /// gguf_string: u64 length + UTF-8 bytes. Returns the byte range.
    mutating func readStringRange(_ what: @autoclosure () -> String) throws -> Range<Int> {
        let start = position
        let length = try readCount(what())
        guard length <= UInt64(remaining) else {
            position = start
            throw GGUFError.truncated(what: what(), offset: start)
        }
        let bytesStart = try take(Int(length), what())
        return bytesStart..<position
    }

    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let range = try readStringRange(what())
        return String(decoding: file.bytes(range), as: UTF8.self)
    }

    mutating func readValueType(_ what: @autoclosure () -> String) throws -> GGUFValueType {
        let raw = try read(UInt32.self, what())
        guard let type = GGUFValueType(rawValue: raw) else {
            throw GGUFError.unknownValueType(what: what(), raw: raw)
        }
        return type
    }

    /// Reads one value of `type`. Arrays are walked (to validate and find
    /// their end) but not decoded.
    mutating func readValue(_ type: GGUFValueType, what: @autoclosure () -> String, depth: Int = 0) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, what()))
        case .int8: return .int8(try read(Int8.self, what()))
        case .uint16: return .uint16(try read(UInt16.self, what()))
        case .int16: return .int16(try read(Int16.self, what()))
        case .uint32: return .uint32(try read(UInt32.self, what()))
        case .int32: return .int32(try read(Int32.self, what()))
        case .uint64: return .uint64(try read(UInt64.self, what()))
        case .int64: return .int64(try read(Int64.self, what()))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, what())))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, what())))
        case .bool:
            let byte = try read(UInt8.self, what())
            guard byte <= 1 else { throw GGUFError.invalidBool(what: what(), byte: byte) }
            return .bool(byte == 1)
        case .string:
            return .string(try readString(what()))
        case .array:
            return .array(try readArray(what(), depth: depth))
        }
    }

    /// Array: u32 element type, u64 count, elements. Checks the count against
    /// the bytes left before walking, then skips the elements.
    mutating func readArray(_ what: @autoclosure () -> String, depth: Int) throws -> GGUFArray {
        guard depth < GGUFArray.maxNesting else { throw GGUFError.arrayNestingTooDeep(what: what()) }
        let elementType = try readValueType("element type of \(what())")
        let rawCount = try readCount("element count of \(what())")
        guard rawCount <= UInt64(remaining / elementType.minimumSize) else {
            throw GGUFError.countTooLarge(what: "element count of \(what())", count: rawCount, remaining: remaining)
        }
        let count = Int(rawCount)
        let start = position
        if let size = elementType.fixedSize {
            try take(count * size, what())  // cannot overflow: checked against `remaining` above
        } else if elementType == .string {
            for _ in 0..<count { _ = try readStringRange(what()) }
        } else {
            for _ in 0..<count { _ = try readArray(what(), depth: depth + 1) }
        }
        return GGUFArray(elementType: elementType, count: count, file: file, range: start..<position)
    }
}
