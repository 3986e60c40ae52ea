import Foundation
import LMEngine

/// The state of one lab session: settings, loaded models, where output goes,
/// the Ctrl-C flag, and the transcript that `save` writes.
public final class Session {
    public let console: Console
    public let settings = Settings()
    public let interrupt: Interrupt
    public let registry: CommandRegistry
    /// Where history and caches live: $LMLAB_HOME, else ~/.lmlab.
    public let home: URL
    /// True at an interactive prompt; scripts and -c are false.
    public var interactive = false
    /// Set by `quit`; the REPL leaves after the current line.
    public var wantsToQuit = false
    /// The models loaded, by name, and the current one (`model`, in LoadedModels.swift).
    public let models = LoadedModels()
    /// Free memory in bytes for the fit check before `load` (tests replace it).
    public var availableMemory: () -> Int? = MemoryNeed.available
    /// Cascade tiers and the last `cascade run`.
    public let cascade = CascadeState()
    /// Reads one more line from the user (interactive only; `chat` uses it).
    public var readLine: ((String) -> String?)?
    /// The commands run so far with their output, for `save FILE.md`.
    public let transcript = Transcript()
    /// What the latest commands measured, for lesson checks.
    public let figures = Figures()
    /// The servers `serve --background` started, until `serve stop` (each stops by itself when the lab ends).
    var backgroundServers: [BackgroundServer] = []
    /// Lesson 10's drill: each question asked (`ask:`) and the student's answer, for `save card`.
    public var drillAnswers: [(question: String, answer: String, sketch: String)] = []

    public init(console: Console = Console(), interrupt: Interrupt = .shared, home: URL? = nil,
                registry: CommandRegistry? = nil) {
        self.console = console
        self.interrupt = interrupt
        self.home = home ?? Session.defaultHome()
        self.registry = registry ?? CommandRegistry(BuiltinCommands.all)
    }

    public static func defaultHome() -> URL {
        if let h = ProcessInfo.processInfo.environment["LMLAB_HOME"], !h.isEmpty {
            return URL(fileURLWithPath: h)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".lmlab")
    }

    /// Runs one command line, printing its error (one line) instead of throwing.
    /// Returns whether it succeeded.
    @discardableResult
    public func run(_ line: String) -> Bool {
        let recording = registry.recordsInTranscript(line) ? console.startRecording() : nil
        do {
            try registry.execute(line, session: self)
            if let recording {
                transcript.append(command: line.trimmingCharacters(in: .whitespaces),
                                  output: console.stopRecording(recording))
            }
            return true
        } catch let e as CommandError {
            console.error(e.description)
        } catch {
            console.error(TextUtil.sanitize(ErrorLine.text(for: error)))
        }
        if let recording { _ = console.stopRecording(recording) }   // failed commands are not saved
        return false
    }

    /// Applies the settings to the console and every loaded model's kernels.
    func applySettings() {
        console.colorSetting = Console.ColorSetting(rawValue: settings.string("color")) ?? .auto
        for compute in models.all.map(\.model.compute) {
            compute.threads = settings.int("threads")
            compute.mode = KernelMode(rawValue: settings.string("kernels")) ?? .fast
            compute.activations = ActivationPrecision(rawValue: settings.string("activations")) ?? .q8
        }
    }

    /// The loaded model, or the one-line error saying how to load one.
    func requireModel() throws -> LoadedModel {
        if let api = models.currentAPI { throw LoadedModels.needsWeights(api) }
        guard let model else { throw CommandError.state("no model loaded — try 'load smollm2' (or 'load PATH.gguf')") }
        return model
    }

    /// Sampler settings from the session settings.
    var samplerSettings: SamplerSettings {
        SamplerSettings(temperature: Float(settings.double("temperature")), topK: settings.int("top_k"),
                        topP: Float(settings.double("top_p")), minP: Float(settings.double("min_p")),
                        repeatPenalty: Float(settings.double("repeat_penalty")), seed: UInt64(settings.int("seed")))
    }
}
