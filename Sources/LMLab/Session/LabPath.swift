import Foundation

/// A path a student (or a lesson) types: `~` is the home folder, and a leading
/// `$LMLAB_HOME` is the lab's own folder (`session.home`), so lessons write their
/// scratch files where `LMLAB_HOME` points and `reset` can find them.
public enum LabPath {
    public static let homeVariable = "$LMLAB_HOME"

    public static func url(_ typed: String, home: URL) -> URL {
        if typed == homeVariable { return home }
        if typed.hasPrefix(homeVariable + "/") {
            return home.appendingPathComponent(String(typed.dropFirst(homeVariable.count + 1)))
        }
        return URL(fileURLWithPath: (typed as NSString).expandingTildeInPath)
    }

    /// Where lessons keep what they make (corpora, students): `reset` removes it.
    static func scratch(home: URL) -> URL { home.appendingPathComponent("scratch") }

    /// Where `train` keeps a recipe's checkpoint, NAME.ckpt: in the lab's folder, not
    /// beside the model in the checkout, and kept by `reset` (a checkpoint is work to resume).
    static func checkpoints(home: URL) -> URL { home.appendingPathComponent("checkpoints") }
}
