import Foundation

/// The table `models --loaded` prints: each loaded model and what it takes in memory.
enum LoadedModelsView {
    static func render(_ session: Session) -> String {
        let console = session.console
        guard !session.models.isEmpty else { return "no model loaded — try 'load smollm2' (or 'load gemma3 as big')" }
        var t = Table(["", "name", "file", "parameters", "weights", "KV cache (used / reserved)", "buffers", "total"])
        var sum = 0
        for m in session.models.all {
            let mem = m.memory
            sum += mem.total
            let current = m.name == session.models.currentName
            var weights = TextUtil.bytes(mem.fileWeights) + " mapped"
            if mem.extraWeights > 0 { weights += " + " + TextUtil.bytes(mem.extraWeights) + " re-quantized" }
            t.add([current ? "*" : "", current ? console.styled(m.name, .bold) : m.name,
                   TextUtil.sanitize(m.url.lastPathComponent), TextUtil.count(m.parameterCount), weights,
                   TextUtil.bytes(mem.kvCacheUsed) + " / " + TextUtil.bytes(mem.kvCacheReserved),
                   TextUtil.bytes(mem.buffers), TextUtil.bytes(mem.total)])
        }
        for a in session.models.remote {
            let current = a.name == session.models.currentName
            t.add([current ? "*" : "", current ? console.styled(a.name, .bold) : a.name,
                   "API " + TextUtil.sanitize(a.endpoint.display), "–", "none here", "–", "–", "–"])
        }
        var lines = [t.render(console: console)]
        var footer = "\(session.models.all.count + session.models.remote.count) loaded, \(TextUtil.bytes(sum)) in all (* = current; 'use NAME' switches)"
        if let available = session.availableMemory() { footer += " · \(TextUtil.bytes(available)) available" }
        lines.append(footer)
        lines.append(console.styled("total = mapped weights + re-quantized copies + KV cache in use + buffers; "
                                    + "the reserved KV cache is committed only as the context fills", .dim))
        return lines.joined(separator: "\n")
    }
}
