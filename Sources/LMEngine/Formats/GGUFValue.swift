/// The metadata value types of GGUF, with the file's numbering.
public enum GGUFValueType: UInt32, CaseIterable, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5
    case float32 = 6, bool = 7, string = 8, array = 9
    case uint64 = 10, int64 = 11, float64 = 12

    /// Bytes per value for fixed-size types; nil for string and array.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The fewest bytes one value can take: a string is at least its u64
    /// length, an array at least its u32 type + u64 count. Used to reject
    /// counts that cannot fit in what is left of the file before allocating.
    var minimumSize: Int { fixedSize ?? (self == .string ? 8 : 12) }

    public var name: String { String(describing: self) }
}

/// One metadata value. Scalars and strings are decoded when the file is
/// opened; arrays stay in the mapping until asked for (see `GGUFArray`).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// Any integer type, when the value fits in `Int`.
    public var intValue: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(exactly: v)
        case let .int64(v): return Int(exactly: v)
        default: return nil
        }
    }

    /// f32 or f64 (f64 rounded to Float).
    public var floatValue: Float? {
        switch self {
        case let .float32(v): return v
        case let .float64(v): return Float(v)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case let .bool(v) = self { return v }
        return nil
    }

    public var stringValue: String? {
        if case let .string(v) = self { return v }
        return nil
    }

    public var arrayValue: GGUFArray? {
        if case let .array(v) = self { return v }
        return nil
    }

    /// A short human-readable rendering (arrays summarised), for inspectors.
    public var summary: String {
        switch self {
        case let .string(s): return s.count > 60 ? "\"\(s.prefix(57))...\"" : "\"\(s)\""
        case let .array(a): return "[\(a.elementType.name) × \(a.count)]"
        case let .float32(v): return "\(v)"
        case let .float64(v): return "\(v)"
        case let .bool(v): return "\(v)"
        case let .uint64(v): return "\(v)"
        case let .int64(v): return "\(v)"
        default: return intValue.map(String.init) ?? "\(self)"
        }
    }
}

/// A metadata array: element type, count, and the elements either still in
/// the file mapping (arrays read from a file) or held in memory (arrays built
/// for `GGUFWriter`).
///
/// A 262,144-token vocabulary therefore costs one small struct until someone
/// asks for `strings()`, which decodes it in one pass.
public struct GGUFArray: Sendable, Equatable {
    /// Deepest array-of-array nesting accepted when reading.
    public static let maxNesting = 8

    public let elementType: GGUFValueType
    public let count: Int

    enum Storage: @unchecked Sendable {
        /// `range`: the encoded elements in the mapping (after the type and count).
        case mapped(MappedFile, range: Range<Int>)
        case owned([GGUFValue])
    }
    let storage: Storage

    init(elementType: GGUFValueType, count: Int, file: MappedFile, range: Range<Int>) {
        self.elementType = elementType
        self.count = count
        self.storage = .mapped(file, range: range)
    }

    /// An in-memory array; every value must have type `elementType`.
    public init(elementType: GGUFValueType, values: [GGUFValue]) {
        precondition(values.allSatisfy { $0.type == elementType },
                     "GGUFArray: every element must be \(elementType.name)")
        self.elementType = elementType
        self.count = values.count
        self.storage = .owned(values)
    }

    public init(strings: [String]) { self.init(elementType: .string, values: strings.map { .string($0) }) }
    public init(floats: [Float]) { self.init(elementType: .float32, values: floats.map { .float32($0) }) }
    public init(int32s: [Int32]) { self.init(elementType: .int32, values: int32s.map { .int32($0) }) }

    /// The encoded element bytes when the array lives in a mapping, so a
    /// writer can copy it without decoding.
    var mappedBytes: UnsafeRawBufferPointer? {
        if case let .mapped(file, range) = storage { return file.bytes(range) }
        return nil
    }

    /// Every element as a `GGUFValue` (nested arrays stay lazy).
    public func values() -> [GGUFValue] {
        switch storage {
        case let .owned(values):
            return values
        case let .mapped(file, range) where elementType == .bool:
            // Bytes were not checked to be 0/1 inside arrays; read any non-zero as true.
            return file.bytes(range).map { .bool($0 != 0) }
        case let .mapped(file, range):
            // The range was walked and bounds-checked when the file was opened.
            var reader = GGUFReader(file: file, position: range.lowerBound)
            var out: [GGUFValue] = []
            out.reserveCapacity(count)
            for i in 0..<count {
                guard let v = try? reader.readValue(elementType, what: "array element \(i)", depth: 1) else { break }
                out.append(v)
            }
            return out
        }
    }

    /// The elements as strings, or nil when they are not strings.
    public func strings() -> [String]? {
        guard elementType == .string else { return nil }
        guard case let .mapped(file, range) = storage else {
            return values().compactMap(\.stringValue)
        }
        // One pass over [u64 length][bytes] pairs, straight from the mapping.
        var out: [String] = []
        out.reserveCapacity(count)
        var position = range.lowerBound
        for _ in 0..<count {
            let length = Int(UInt64(littleEndian: file.base.loadUnaligned(fromByteOffset: position, as: UInt64.self)))
            position += 8
            out.append(String(decoding: file.bytes(position..<position + length), as: UTF8.self))
            position += length
        }
        return out
    }

    /// The elements as Float (f32, or f64 rounded), or nil for other types.
    public func floats() -> [Float]? {
        switch elementType {
        case .float32:
            if case let .mapped(file, range) = storage {
                return (0..<count).map { i in
                    Float(bitPattern: UInt32(littleEndian: file.base.loadUnaligned(
                        fromByteOffset: range.lowerBound + 4 * i, as: UInt32.self)))
                }
            }
            return values().compactMap(\.floatValue)
        case .float64:
            return values().compactMap(\.floatValue)
        default:
            return nil
        }
    }

    /// The elements as Int32, or nil when the type is not an integer type or
    /// a value does not fit.
    public func int32s() -> [Int32]? {
        switch elementType {
        case .int32:
            if case let .mapped(file, range) = storage {
                return (0..<count).map { i in
                    Int32(littleEndian: file.base.loadUnaligned(
                        fromByteOffset: range.lowerBound + 4 * i, as: Int32.self))
                }
            }
            return values().compactMap { v in v.intValue.flatMap { Int32(exactly: $0) } }
        case .uint8, .int8, .uint16, .int16, .uint32, .uint64, .int64:
            var out: [Int32] = []
            out.reserveCapacity(count)
            for v in values() {
                guard let i = v.intValue, let narrow = Int32(exactly: i) else { return nil }
                out.append(narrow)
            }
            return out
        default:
            return nil
        }
    }

    public static func == (a: GGUFArray, b: GGUFArray) -> Bool {
        a.elementType == b.elementType && a.count == b.count && a.values() == b.values()
    }
}
