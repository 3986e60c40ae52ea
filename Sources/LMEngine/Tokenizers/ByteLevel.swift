/// GPT-2's byte-level alphabet: each of the 256 byte values is stood for by
/// one printable Unicode character, so a vocabulary of strings can cover
/// arbitrary bytes. Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand
/// for themselves; the other 68 (controls, space, soft hyphen, …) take
/// U+0100, U+0101, … in byte order. So space (0x20) is `Ġ` (U+0120) and
/// newline (0x0A) is `Ċ` (U+010A).
enum ByteLevel {
    /// byte value → the character standing for it.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// character (code point) → byte value; only the 256 table entries are present.
    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (byte, scalar) in byteToScalar.enumerated() { map[scalar.value] = UInt8(byte) }
        return map
    }()

    /// The bytes a byte-level token string stands for. Characters outside the
    /// alphabet (which a well-formed vocabulary never holds) pass through as UTF-8.
    static func decode(_ token: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            if let byte = scalarToByte[scalar.value] {
                out.append(byte)
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }

    /// The byte-level token string for raw bytes.
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }
}
