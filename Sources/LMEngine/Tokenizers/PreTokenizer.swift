/// Splits text into the words BPE runs on, before any merging.
///
/// Written by hand over Unicode scalars (no regex engine) to behave like
/// llama.cpp's splitter for these patterns (llama-vocab.cpp, unicode.cpp):
///
/// * `gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// * `digitsThenGPT2` (`smollm`, `starcoder`, …): first cut out every
///   `\p{N}` scalar as a word of its own, then apply the GPT-2 pattern inside
///   each remaining piece. The look-ahead `(?!\S)` cannot see past a piece,
///   so in "a  1" the two spaces stay together.
/// * `llama3(digits:)` (`llama-bpe`, `qwen2`, `deepseek-r1-qwen`, …):
///   `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,digits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
///   with digit runs cut every 3 (Llama 3), every 1 (Qwen2) or never (`nil`: BLOOM, Poro).
/// * `llamaDefault` (`default`, what llama.cpp uses for any BPE file that names no
///   pattern it knows better): four patterns one after the other, each splitting the
///   pieces the previous one left — runs of punctuation `[\p{P}$+<=>^~|]+`, then GPT-2
///   inside each piece, then runs of `\p{N}+`, then `[0-9]{3}` from the left.
public enum PreTokenizer: Sendable, Equatable {
    case gpt2
    case digitsThenGPT2
    /// Digit runs are cut into groups of `digits` (nil: kept whole).
    case llama3(digits: Int?)
    case llamaDefault

    /// `tokenizer.ggml.pre` values handled, as llama.cpp groups them.
    static let names: [String: PreTokenizer] = {
        var table: [String: PreTokenizer] = ["default": .llamaDefault]
        for name in ["gpt2", "gpt-2", "phi-2", "mpt", "olmo", "jais", "trillion", "granite-docling",
                     "exaone4", "mellum", "modern-bert", "a.x-4.0", "gigachat", "jina-es", "jina-de",
                     "jina-v2-es", "jina-v2-de"] { table[name] = .gpt2 }
        for name in ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b",
                     "mellum2"] { table[name] = .digitsThenGPT2 }
        for name in ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
                     "lfm2", "jina-v5-nano", "dbrx", "smaug-bpe"] { table[name] = .llama3(digits: 3) }
        for name in ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan",
                     "solar-open"] { table[name] = .llama3(digits: 1) }
        for name in ["bloom", "poro-chat", "gpt3-finnish"] { table[name] = .llama3(digits: nil) }
        return table
    }()

    public static var supportedNames: [String] { names.keys.sorted() }

    /// nil when the name is not supported. A missing key means plain GPT-2, as the lab's
    /// own tokenizers were written before they named theirs (llama.cpp would use `default`).
    public init?(name: String?) {
        guard let name else { self = .gpt2; return }
        guard let pre = PreTokenizer.names[name] else { return nil }
        self = pre
    }

    /// llama.cpp starts Llama 3-style vocabularies with BOS unless the file says otherwise.
    var addsBOSByDefault: Bool { self == .llama3(digits: 3) }

    /// llama.cpp's `ignore_merges` (Llama 3 family): a word that is itself a token is taken
    /// whole, without running the merges.
    var ignoresMerges: Bool { self == .llama3(digits: 3) }

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
    public func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
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
        case .llama3(let digits):
            PreTokenizer.splitLlama3(scalars, classes, digits: digits, into: &words)
        case .llamaDefault:
            // 1. runs of punctuation and the gaps between them
            for piece in PreTokenizer.runs(0..<scalars.count, where: { PreTokenizer.isDefaultPunctuation(scalars[$0], classes[$0]) }) {
                // 2. GPT-2 inside each piece
                var gpt2Words: [Range<Int>] = []
                PreTokenizer.splitGPT2(scalars, classes, piece, into: &gpt2Words)
                for word in gpt2Words {
                    // 3. runs of numbers; 4. ASCII digits three at a time from the left
                    for part in PreTokenizer.runs(word, where: { classes[$0] == .number }) {
                        PreTokenizer.cutASCIIDigitTriples(scalars, part, into: &words)
                    }
                }
            }
        }
        return words
    }

    /// `piece` cut into maximal runs where `inRun` holds and the gaps between them, in order.
    private static func runs(_ piece: Range<Int>, where inRun: (Int) -> Bool) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = piece.lowerBound
        while start < piece.upperBound {
            let kind = inRun(start)
            var end = start + 1
            while end < piece.upperBound, inRun(end) == kind { end += 1 }
            out.append(start..<end)
            start = end
        }
        return out
    }

    /// `[\p{P}\$\+<=>\^~\|]`: Unicode punctuation, or one of the ASCII symbols listed
    /// (every ASCII symbol but the backtick).
    private static func isDefaultPunctuation(_ s: Unicode.Scalar, _ c: CharClass) -> Bool {
        if "$+<=>^~|".unicodeScalars.contains(s) { return true }
        guard c == .other else { return false }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    /// `[0-9][0-9][0-9]` found left to right inside `piece`; the text around each match
    /// stays a word of its own.
    private static func cutASCIIDigitTriples(_ s: [Unicode.Scalar], _ piece: Range<Int>, into words: inout [Range<Int>]) {
        func isDigit(_ i: Int) -> Bool { i < piece.upperBound && ("0"..."9").contains(s[i]) }
        var gapStart = piece.lowerBound
        var i = piece.lowerBound
        while i + 2 < piece.upperBound {
            if isDigit(i) && isDigit(i + 1) && isDigit(i + 2) {
                if gapStart < i { words.append(gapStart..<i) }
                words.append(i..<i + 3)
                i += 3
                gapStart = i
            } else {
                i += 1
            }
        }
        if gapStart < piece.upperBound { words.append(gapStart..<piece.upperBound) }
    }

    /// The Llama 3 / Qwen2 pattern over the whole text, as llama.cpp's hand-written matcher
    /// runs it (an unassigned scalar matches no class, not even `[^\s\p{L}\p{N}]`).
    private static func splitLlama3(_ s: [Unicode.Scalar], _ c: [CharClass], digits: Int?,
                                    into words: inout [Range<Int>]) {
        let end = s.count
        func cls(_ i: Int) -> CharClass? { i < end ? c[i] : nil }
        func lower(_ i: Int) -> Unicode.Scalar? {
            guard i < end else { return nil }
            let v = s[i].value
            return (65...90).contains(v) ? Unicode.Scalar(v + 32) : s[i]
        }
        var pos = 0
        while pos < end {
            let start = pos
            let ch = s[pos]
            let here = c[pos]

            // (?i:'s|'t|'re|'ve|'m|'ll|'d): contractions in either case.
            if ch == "'", pos + 1 < end, let next = lower(pos + 1) {
                if next == "s" || next == "t" || next == "m" || next == "d" {
                    pos += 2; words.append(start..<pos); continue
                }
                if pos + 2 < end, let after = lower(pos + 2),
                   (next, after) == ("r", "e") || (next, after) == ("v", "e") || (next, after) == ("l", "l") {
                    pos += 3; words.append(start..<pos); continue
                }
            }

            // [^\r\n\p{L}\p{N}]?\p{L}+: letters, with one scalar before them that is not a
            // line break or a number (a space, punctuation, even an unassigned scalar).
            if ch != "\r", ch != "\n", here != .number, here == .letter || cls(pos + 1) == .letter {
                pos += 1
                while cls(pos) == .letter { pos += 1 }
                words.append(start..<pos); continue
            }

            // \p{N}{1,digits}
            if here == .number {
                var runStart = pos
                while cls(pos) == .number {
                    pos += 1
                    if let digits, pos - runStart == digits {
                        words.append(runStart..<pos)
                        runStart = pos
                    }
                }
                if runStart < pos { words.append(runStart..<pos) }
                continue
            }

            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let runClass = ch == " " ? cls(pos + 1) : here
            if runClass == .other {
                if ch == " " { pos += 1 }
                while cls(pos) == .other { pos += 1 }
                while pos < end, s[pos] == "\r" || s[pos] == "\n" { pos += 1 }
                words.append(start..<pos); continue
            }

            // \s*[\r\n]+ (up to the last line break of the whitespace run), then
            // \s+(?!\S) (leave the last space for the next word), then \s+.
            var spaces = 0
            var afterLastBreak = 0
            while cls(pos + spaces) == .whitespace {
                if s[pos + spaces] == "\r" || s[pos + spaces] == "\n" { afterLastBreak = pos + spaces + 1 }
                spaces += 1
            }
            if afterLastBreak > 0 {
                pos = afterLastBreak
            } else if spaces > 1, pos + spaces < end {
                pos += spaces - 1
            } else if spaces > 0 {
                pos += spaces
            } else {
                pos += 1  // an unassigned scalar: a word by itself
            }
            words.append(start..<pos)
        }
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
