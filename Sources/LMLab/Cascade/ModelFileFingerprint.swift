import Foundation

/// What identifies a model file's content for the answer cache, without reading all of it.
///
/// A retrained model can keep its file's name and size exactly (same architecture, same
/// tensor types), so those two alone would serve the old model's answers. The fingerprint
/// adds the file's modification time and a digest of its bytes: the whole file when it is
/// small, otherwise its first MiB (header, metadata, tokenizer), its last 64 KiB and
/// 48 blocks of 64 KiB spread evenly between them, about 4 MiB read in milliseconds.
/// A new training run or quantization changes every tensor, so every sample; an in-place
/// edit confined to the bytes between samples still changes the modification time.
public enum ModelFileFingerprint {
    public static let wholeFileLimit = 4 << 20
    static let headBytes = 1 << 20
    static let blockBytes = 64 << 10
    static let spreadBlocks = 48

    /// `mtime-<seconds>|digest-<16 hex>` for the file a URL names (symbolic links followed).
    /// nil when the file can't be read.
    /// `wholeFileLimit`: files up to this size are digested whole (smaller in tests, to sample small files).
    public static func of(_ url: URL, wholeFileLimit: Int = wholeFileLimit) -> String? {
        let resolved = url.resolvingSymlinksInPath()
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: resolved.path),
              let size = (attributes[.size] as? NSNumber)?.intValue,
              let modified = attributes[.modificationDate] as? Date,
              let handle = try? FileHandle(forReadingFrom: resolved) else { return nil }
        defer { try? handle.close() }
        var digest = FNV1a64()
        for range in sampledRanges(size: size, wholeFileLimit: wholeFileLimit) {
            guard (try? handle.seek(toOffset: UInt64(range.lowerBound))) != nil,
                  let bytes = try? handle.read(upToCount: range.count), bytes.count == range.count else { return nil }
            digest.add(bytes)
        }
        // Whole seconds: file systems and copies keep different sub-second precision.
        return "mtime-\(Int(modified.timeIntervalSince1970.rounded(.down)))|digest-\(digest.hex)"
    }

    /// The byte ranges digested for a file of `size` bytes, in order, not overlapping.
    static func sampledRanges(size: Int, wholeFileLimit: Int) -> [Range<Int>] {
        let head = min(headBytes, wholeFileLimit)
        let block = min(blockBytes, max(1, wholeFileLimit / 64))
        if size <= wholeFileLimit { return size == 0 ? [] : [0..<size] }
        var ranges = [0..<head]
        let tail = (size - block)..<size
        // Evenly spaced blocks over the bytes between the head and the tail.
        let span = tail.lowerBound - head
        for i in 0..<spreadBlocks {
            let start = head + span * (2 * i + 1) / (2 * spreadBlocks) - block / 2
            let r = max(start, ranges.last!.upperBound)..<min(start + block, tail.lowerBound)
            if !r.isEmpty { ranges.append(r) }
        }
        ranges.append(max(tail.lowerBound, ranges.last!.upperBound)..<size)
        return ranges
    }

    /// FNV-1a over bytes, 64 bits (the same function AnswerCache uses for text).
    struct FNV1a64 {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func add(_ data: Data) {
            var h = state
            data.withUnsafeBytes { raw in
                for b in raw { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            }
            state = h
        }
        var hex: String { String(format: "%016llx", state) }
    }
}
