import Foundation

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
        do {
            try registry.execute(line, session: self)
            return true
        } catch let e as CommandError {
            console.error(e.description)
        } catch {
            console.error(TextUtil.sanitize(String(describing: error)))
        }
        return false
    }

    /// Applies the `color` setting to the console.
    func applySettings() {
        console.colorSetting = Console.ColorSetting(rawValue: settings.string("color")) ?? .auto
    }
}
