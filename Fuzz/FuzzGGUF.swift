import Foundation

// libFuzzer target for every file reader in LMEngine: the GGUF reader, the
// tokenizer loaders (BPE and SentencePiece, built from the file's metadata)
// and the model loader, then one short forward pass when a model loads.
//
// Compiled by scripts/fuzz.sh together with the LMEngine sources (one module,
// so internal code is instrumented too). An error that is not one of the
// engine's typed errors is reported as a crash, as is any trap.

/// GGUFFile reads a path (it maps the file), so each input goes to a file in
/// memory-backed /dev/shm when there is one.
private let inputPath: String = {
    let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return folder + "/lmlab-fuzz-\(getpid()).gguf"
}()

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    // `LMLAB_FUZZ_WRITE_SEEDS=DIR fuzz-gguf` writes the seed corpus and exits.
    if let folder = ProcessInfo.processInfo.environment["LMLAB_FUZZ_WRITE_SEEDS"] {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for seed in try GGUFSeeds.all() {
                try Data(seed.bytes).write(to: URL(fileURLWithPath: folder).appendingPathComponent(seed.name + ".fuzz"))
            }
            exit(0)
        } catch {
            fputs("could not write the seeds: \(error)\n", stderr)
            exit(1)
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let url = URL(fileURLWithPath: inputPath)
    guard (try? Data(bytes: data, count: size).write(to: url)) != nil else { return 0 }
    defer { unlink(inputPath) }   // nothing left in /dev/shm when the run ends
    do {
        try exercise(url)
    } catch is GGUFError {
    } catch is ModelError {
    } catch is TokenizerError {
    } catch {
        fatalError("untyped error from a file reader: \(type(of: error)): \(error)")
    }
    return 0
}

private func exercise(_ url: URL) throws {
    let file = try GGUFFile(url: url)
    for key in file.metadataKeys {
        if let array = file.metadata[key]?.arrayValue { touch(array) }
    }
    for tensor in file.tensors where tensor.byteCount > 0 {
        let p = file.pointer(to: tensor)
        _ = (p.load(as: UInt8.self), p.load(fromByteOffset: tensor.byteCount - 1, as: UInt8.self))
    }
    guard file.metadata["tokenizer.ggml.model"] != nil else { return }
    let tokenizer = try TokenizerFactory.make(from: file)
    let ids = tokenizer.encode("hello, world! naïve <|im_end|><end_of_turn> abc\n", addBOS: true, parseSpecial: true)
    _ = tokenizer.decode(ids)
    guard file.metadata["general.architecture"] != nil else { return }
    // A short context keeps each run small; the forward pass checks the weights are usable.
    let model = try ModelLoader.load(url: url, contextLength: 16, threads: 1)
    let prompt = Array(ids.prefix(4))
    if !prompt.isEmpty { try model.forward(prompt, logitsFrom: 0) { _, logits in _ = logits.max() } }
}

private func touch(_ array: GGUFArray, depth: Int = 0) {
    _ = array.strings(); _ = array.floats(); _ = array.int32s()
    for value in array.values() {
        if let inner = value.arrayValue, depth < 16 { touch(inner, depth: depth + 1) }
    }
}
