import Foundation
import LMEngine

/// `models`: the catalogue, and which models are here already.
struct ModelsCommand: Command {
    let name = "models"
    let topic = Topic.models
    let summary = "list the models the lab knows, and which are downloaded; --loaded: the ones in memory"
    let usage = "models [--loaded | --ollama]"
    let positionals: ClosedRange<Int>? = 0...0
    let flags = [Arguments.Flag("loaded", "the models loaded now, with the memory each takes"),
                 Arguments.Flag("ollama", "the models in Ollama's store ($OLLAMA_MODELS or ~/.ollama/models), loadable as ollama:NAME")]

    func run(_ args: Arguments, session: Session) throws {
        if args.flag("loaded") { return session.console.line(LoadedModelsView.render(session)) }
        if args.flag("ollama") { return ModelsCommand.listOllama(session) }
        let catalog = try Catalog.load(home: session.home)
        var t = Table(["name", "aliases", "architecture", "parameters", "size", "licence", "status"])
        for e in catalog.models {
            let here = (try? ModelLocator.resolve(e.name, home: session.home)) != nil
            let status = e.isShipped ? (here ? "shipped" : "shipped, but missing — train models/recipes/\(e.name).json")
                : here ? "pulled" : "not pulled — pull \(e.aliases.first ?? e.name)"
            t.add([e.name, e.aliases.joined(separator: ", "), e.architecture, TextUtil.count(e.parameters),
                   TextUtil.bytes(e.bytes), e.license, status])
        }
        session.console.line(t.render(console: session.console))
    }

    /// `models --ollama`: each manifest's model layer with its architecture and whether the lab runs it.
    static func listOllama(_ session: Session) {
        let store = OllamaStore.fromEnvironment()
        let (entries, problems) = store.list()
        if entries.isEmpty && problems.isEmpty {
            return session.console.line("no models in Ollama's store at \(store.root.path) (set OLLAMA_MODELS, or 'ollama pull qwen3:4b')")
        }
        var t = Table(["name", "architecture", "size", "loads here"])
        for e in entries {
            let architecture = try? GGUFFile(url: e.blob).string("general.architecture")
            let runs = architecture.map { ArchitectureRegistry.names.contains($0) ? "yes" : "no (unsupported architecture)" }
                ?? "no (not a GGUF file)"
            t.add([ModelLocator.ollamaPrefix + e.reference.description, architecture.map { TextUtil.sanitize($0) } ?? "?",
                   TextUtil.bytes(e.bytes), runs])
        }
        session.console.line("Ollama's store at \(store.root.path):\n" + t.render(console: session.console))
        for p in problems { session.console.line("skipped: " + p) }
    }
}
