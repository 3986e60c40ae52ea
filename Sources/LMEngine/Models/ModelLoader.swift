import Foundation

/// Opens a GGUF file and builds the model its `general.architecture` names
/// (ArchitectureRegistry in Architecture.swift).
public enum ModelLoader {
    public static func load(url: URL, contextLength: Int? = nil, threads: Int = 2) throws -> DecoderModel {
        // A llama2.c checkpoint (.bin, no magic) becomes a GGUF in memory first.
        let gguf = isLlama2c(url) ? try Llama2cCheckpoint.load(checkpoint: url) : try GGUFFile(url: url)
        return try load(gguf: gguf, contextLength: contextLength, threads: threads)
    }

    /// A `.bin` file that does not start with GGUF's magic: llama2.c's checkpoint format.
    public static func isLlama2c(_ url: URL) -> Bool {
        guard url.pathExtension == "bin", let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        return magic != Data("GGUF".utf8)
    }

    public static func load(gguf: GGUFFile, contextLength: Int? = nil, threads: Int = 2) throws -> DecoderModel {
        if let available = availableMemory(), gguf.fileSize > available {
            throw ModelError.tooLargeForMemory(needed: gguf.fileSize, available: available)
        }
        let name = try gguf.string("general.architecture")
        guard let architecture = ArchitectureRegistry.type(named: name) else {
            throw ModelError.unsupportedArchitecture(name)
        }
        let tokenizer = try TokenizerFactory.make(from: gguf, preTokenizers: ArchitectureRegistry.preTokenizers)
        return try architecture.init(ModelBuilder(gguf: gguf, tokenizer: tokenizer, contextLength: contextLength, threads: threads))
    }

    /// MemAvailable from /proc/meminfo, in bytes (nil where unknown).
    public static func availableMemory() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return nil
    }

    /// `general.file_type` as llama.cpp names it (LLAMA_FTYPE_*).
    public static func fileTypeName(_ raw: Int) -> String? {
        let names: [Int: String] = [
            0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
            10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
            16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 32: "BF16",
        ]
        return names[raw]
    }
}
