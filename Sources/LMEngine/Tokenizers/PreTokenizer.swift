/// Splits text into the words BPE runs on, before any merging.
///
/// Written by hand over Unicode scalars (no regex engine) to behave like
/// llama.cpp's splitter for these patterns:
///
/// * `gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// * `digitsThenGPT2` (`smollm`, `starcoder`, …): first cut out every
///   `\p{N}` scalar as a word of its own, then apply the GPT-2 pattern inside
///   each remaining piece. The look-ahead `(?!\S)` cannot see past a piece,
///   so in "a  1" the two spaces stay together.
public enum PreTokenizer: Sendable {
    case gpt2
    case digitsThenGPT2

    /// `tokenizer.ggml.pre` values handled, as llama.cpp groups them.
    static let supportedNames = ["gpt2", "gpt-2", "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone"]

    /// nil when the name is not supported. A missing key means plain GPT-2.
    init?(name: String?) {
        switch name {
        case nil, "gpt2", "gpt-2": self = .gpt2
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone": self = .digitsThenGPT2
        default: return nil
        }
    }

    /// Character classes the pattern distinguishes. `unassigned` scalars
    /// match none of the classes (not even `[^\s\p{L}\p{N}]`), as in llama.cpp.
    enum CharClass: UInt8 {
        case letter, number, whitespace, other, unassigned
    }

    static func classify(_ scalar: Unicode.Scalar) -> CharClass {
        if scalar.value < 128 { return asciiClasses[Int(scalar.value)] }
        return classifySlow(scalar)
    }

    private static let asciiClasses: [CharClass] = (0..<128).map { classifySlow(Unicode.Scalar(UInt8($0))) }

    private static func classifySlow(_ scalar: Unicode.Scalar) -> CharClass {
        let p = scalar.properties
        if p.isWhitespace { return .whitespace }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        case .unassigned:
            return .unassigned
        default:
            return .other
        }
    }

    /// Word boundaries in `scalars`, as ranges of scalar indices, in order and
    /// covering every scalar.
    func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(PreTokenizer.classify)
        var words: [Range<Int>] = []
        words.reserveCapacity(scalars.count / 3)
        switch self {
        case .gpt2:
            PreTokenizer.splitGPT2(scalars, classes, 0..<scalars.count, into: &words)
        case .digitsThenGPT2:
            var start = 0
            for i in 0..<scalars.count where classes[i] == .number {
                PreTokenizer.splitGPT2(scalars, classes, start..<i, into: &words)
                words.append(i..<i + 1)
                start = i + 1
            }
            PreTokenizer.splitGPT2(scalars, classes, start..<scalars.count, into: &words)
        }
        return words
    }

    /// The GPT-2 pattern inside `piece`; positions outside it count as "nothing".
    private static func splitGPT2(_ s: [Unicode.Scalar], _ c: [CharClass], _ piece: Range<Int>,
                                  into words: inout [Range<Int>]) {
        let end = piece.upperBound
        func cls(_ i: Int) -> CharClass? { i < end ? c[i] : nil }
        var pos = piece.lowerBound
        while pos < end {
            let start = pos
            let ch = s[pos]

            // 's 't 're 've 'm 'll 'd (lower case only, as in GPT-2).
            if ch == "'", pos + 1 < end {
                let next = s[pos + 1]
                if next == "s" || next == "t" || next == "m" || next == "d" {
                    pos += 2
                    words.append(start..<pos)
                    continue
                }
                if pos + 2 < end {
                    let pair = (next, s[pos + 2])
                    if pair == ("r", "e") || pair == ("v", "e") || pair == ("l", "l") {
                        pos += 3
                        words.append(start..<pos)
                        continue
                    }
                }
            }

            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional leading
            // space, then a run of one class.
            let runClass = ch == " " ? cls(pos + 1) : c[pos]
            if let run = runClass, run == .letter || run == .number || run == .other {
                if ch == " " { pos += 1 }
                while cls(pos) == run { pos += 1 }
                words.append(start..<pos)
                continue
            }

            // `\s+(?!\S)` then `\s+`: whitespace followed by more text leaves its
            // last space to start the next word.
            var spaces = 0
            while cls(pos + spaces) == .whitespace { spaces += 1 }
            if spaces > 1, pos + spaces < end {
                pos += spaces - 1
            } else if spaces > 0 {
                pos += spaces
            } else {
                pos += 1  // an unassigned scalar: a word by itself
            }
            words.append(start..<pos)
        }
    }
}
