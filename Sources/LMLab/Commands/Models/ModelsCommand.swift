import Foundation

/// `models`: the catalogue, and which models are here already.
struct ModelsCommand: Command {
    let name = "models"
    let topic = Topic.models
    let summary = "list the models the lab knows, and which are downloaded; --loaded: the ones in memory"
    let usage = "models [--loaded]"
    let positionals: ClosedRange<Int>? = 0...0
    let flags = [Arguments.Flag("loaded", "the models loaded now, with the memory each takes")]

    func run(_ args: Arguments, session: Session) throws {
        if args.flag("loaded") { return session.console.line(LoadedModelsView.render(session)) }
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
}
