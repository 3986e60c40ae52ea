/// Everything that can be wrong with a GGUF file, or with a question asked of one.
///
/// Each description is one line naming the field, key or tensor at fault and,
/// where it helps, the byte offset.
public enum GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    case cannotOpen(path: String, reason: String)
    /// The first four bytes, shown escaped.
    case notGGUF(magic: String)
    case unsupportedVersion(UInt32)
    /// `what` ("metadata key 12", "tensor info 3 dimensions", …) ends past the end of the file.
    case truncated(what: String, offset: Int)
    /// A count that cannot fit in the bytes left, checked before anything is allocated.
    case countTooLarge(what: String, count: UInt64, remaining: Int)
    case unknownValueType(what: String, raw: UInt32)
    case invalidBool(what: String, byte: UInt8)
    case arrayNestingTooDeep(what: String)
    case duplicateKey(String)
    case badAlignment(String)
    case badDimensionCount(tensor: String, count: UInt32)
    case badDimension(tensor: String, index: Int, value: UInt64)
    case unknownTensorType(tensor: String, raw: UInt32)
    case rowNotWholeBlocks(tensor: String, ne0: Int, type: GGMLType)
    case tensorTooLarge(tensor: String)
    case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
    case tensorPastEnd(tensor: String, offset: Int, size: Int, fileSize: Int)
    case duplicateTensor(String)
    case missingKey(String)
    case wrongType(key: String, expected: String, actual: String)
    case valueOutOfRange(key: String, value: String)
    /// Writer: the bytes given for a tensor do not match its dims and type.
    case wrongDataSize(tensor: String, expected: Int, actual: Int)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open '\(printable(path, limit: 300))': \(printable(reason))"
        case let .notGGUF(magic):
            return "not a GGUF file: magic is '\(magic)'"
        case let .unsupportedVersion(v):
            return v == 1
                ? "GGUF version 1 is no longer supported (only versions 2 and 3 are)"
                : "GGUF version \(v) is not supported (only versions 2 and 3 are)"
        case let .truncated(what, offset):
            return "truncated file: \(printable(what, limit: 120)) ends past the end of the file (starts at byte \(offset))"
        case let .countTooLarge(what, count, remaining):
            return "\(printable(what, limit: 120)) is \(count), more than the \(remaining) bytes left in the file can hold"
        case let .unknownValueType(what, raw):
            return "\(printable(what, limit: 120)) has unknown value type \(raw)"
        case let .invalidBool(what, byte):
            return "\(printable(what, limit: 120)) is a bool stored as \(byte) (must be 0 or 1)"
        case let .arrayNestingTooDeep(what):
            return "\(printable(what, limit: 120)) nests arrays more than \(GGUFArray.maxNesting) deep"
        case let .duplicateKey(key):
            return "metadata key '\(printable(key))' appears twice"
        case let .badAlignment(value):
            return "general.alignment is \(printable(value)): it must be a power of 2"
        case let .badDimensionCount(tensor, count):
            return "tensor '\(printable(tensor))': n_dims is \(count) (must be 1 to 4)"
        case let .badDimension(tensor, index, value):
            return "tensor '\(printable(tensor))': dimension ne[\(index)] is \(value) (must be between 1 and 2^62)"
        case let .unknownTensorType(tensor, raw):
            return "tensor '\(printable(tensor))': unknown ggml type \(raw)"
        case let .rowNotWholeBlocks(tensor, ne0, type):
            return "tensor '\(printable(tensor))': row length ne[0] = \(ne0) is not a multiple of \(type.name)'s block size \(type.blockSize)"
        case let .tensorTooLarge(tensor):
            return "tensor '\(printable(tensor))': element count or byte size overflows"
        case let .misalignedTensor(tensor, offset, alignment):
            return "tensor '\(printable(tensor))': data offset \(offset) is not a multiple of the alignment \(alignment)"
        case let .tensorPastEnd(tensor, offset, size, fileSize):
            return "tensor '\(printable(tensor))': data runs past the end of the file (offset \(offset), size \(size), file \(fileSize))"
        case let .duplicateTensor(name):
            return "tensor '\(printable(name))' appears twice"
        case let .missingKey(key):
            return "metadata key '\(printable(key))' is missing"
        case let .wrongType(key, expected, actual):
            return "metadata key '\(printable(key))' is \(actual), expected \(expected)"
        case let .valueOutOfRange(key, value):
            return "metadata key '\(printable(key))' has out-of-range value \(printable(value))"
        case let .wrongDataSize(tensor, expected, actual):
            return "tensor '\(printable(tensor))': \(actual) bytes of data given, its dims and type need \(expected)"
        }
    }
}

/// Text from a file made safe for a one-line message: control characters
/// (newlines, escapes, NUL) and line separators shown as `\u{…}`, and the
/// result cut with "…" at `limit` characters. A corrupt length can turn a key
/// into kilobytes of binary; the message must stay one readable line.
func printable(_ text: String, limit: Int = 80) -> String {
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
        let shown = scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
            ? "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars : String(scalar).unicodeScalars
        guard out.count + shown.count <= limit else { return String(out) + "…" }
        out.append(contentsOf: shown)
    }
    return String(out)
}
