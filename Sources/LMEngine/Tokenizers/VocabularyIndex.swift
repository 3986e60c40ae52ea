import Foundation

/// Token text → id, keyed by the exact UTF-8 bytes.
///
/// Why not `[String: Int32]`: Swift compares strings by canonical equivalence,
/// so a vocabulary holding both "é" and "e\u{301}" would see them as one key,
/// and every lookup of a byte range would first have to build a String.
/// This is an open-addressing hash table over one flat byte buffer: building
/// it for 262k tokens is a single pass, and lookups take a byte range directly.
struct VocabularyIndex: Sendable {
    /// All token texts back to back; token `i` is `bytes[offsets[i]..<offsets[i + 1]]`.
    private let bytes: [UInt8]
    private let offsets: [Int32]
    /// Slots holding token ids, -1 when empty. The count is a power of two, at
    /// least twice the number of tokens, so probe runs stay short.
    private let slots: [Int32]
    private let mask: Int

    init(tokens: [String]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokens.count * 8)
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(tokens.count + 1)
        for token in tokens {
            bytes.append(contentsOf: token.utf8)
            offsets.append(Int32(bytes.count))
        }

        var capacity = 16
        while capacity < tokens.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        bytes.withUnsafeBufferPointer { all in
            for id in 0..<tokens.count {
                let text = UnsafeBufferPointer(rebasing: all[Int(offsets[id])..<Int(offsets[id + 1])])
                var slot = VocabularyIndex.hash(text) & mask
                while slots[slot] >= 0 {
                    let other = Int(slots[slot])
                    // A repeated text keeps the later id, as llama.cpp's map assignment does.
                    if text.elementsEqual(all[Int(offsets[other])..<Int(offsets[other + 1])]) { break }
                    slot = (slot + 1) & mask
                }
                slots[slot] = Int32(id)
            }
        }
        self.bytes = bytes
        self.offsets = offsets
        self.slots = slots
        self.mask = mask
    }

    /// The id of the token whose text is exactly `text`, or nil.
    func id(of text: UnsafeBufferPointer<UInt8>) -> Int32? {
        var slot = VocabularyIndex.hash(text) & mask
        return bytes.withUnsafeBufferPointer { all in
            while true {
                let id = slots[slot]
                if id < 0 { return nil }
                let start = Int(offsets[Int(id)]), end = Int(offsets[Int(id) + 1])
                if end - start == text.count,
                   text.isEmpty || memcmp(all.baseAddress! + start, text.baseAddress!, text.count) == 0 {
                    return id
                }
                slot = (slot + 1) & mask
            }
        }
    }

    func id(of text: [UInt8]) -> Int32? {
        text.withUnsafeBufferPointer { id(of: $0) }
    }

    func id(of text: String) -> Int32? {
        id(of: Array(text.utf8))
    }

    /// FNV-1a: simple, and good enough spread for short token texts.
    private static func hash(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text {
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3
        }
        // Fold the high bits in: the table index uses only the low ones.
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}
