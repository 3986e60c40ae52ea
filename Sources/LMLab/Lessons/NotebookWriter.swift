import Foundation

/// Writes a session's transcript as a notebook: Markdown in the lesson format
/// (so `open` replays it, and it can become a lesson) or Jupyter's nbformat 4.
/// Files are written atomically: a temporary file renamed into place.
enum NotebookWriter {
    /// One cell per command, its output in an ```output fence after it.
    static func markdown(_ transcript: Transcript, title: String) -> String {
        var out = "---\ntitle: \(title)\nsaved: \(timestamp(Date()))\n---\n# \(title)\n\n"
        out += "Saved by lmlab \(LMLabInfo.version). Each `lab` cell is a command as it was typed; "
            + "the block after it is what it printed. `open` on this file runs the commands again.\n"
        for entry in transcript.entries {
            let commandFence = Fence.backticks(around: entry.command)
            out += "\n\(commandFence)lab\n\(entry.command)\n\(commandFence)\n"
            let output = entry.output.hasSuffix("\n") ? String(entry.output.dropLast()) : entry.output
            if !output.isEmpty {
                let fence = Fence.backticks(around: output)
                out += "\(fence)output\n\(output)\n\(fence)\n"
            }
        }
        return out
    }

    /// A Jupyter notebook (nbformat 4.5): a Markdown title cell, then one code cell
    /// per command with its output as a stdout stream.
    static func jupyter(_ transcript: Transcript, title: String) throws -> Data {
        var cells: [[String: Any]] = [[
            "cell_type": "markdown", "id": "title", "metadata": [String: Any](),
            "source": lines("# \(title)\n\nSaved by lmlab \(LMLabInfo.version) on \(timestamp(Date())). "
                            + "Each code cell is an lmlab command; run them in the lab (`lmlab`), or `open` the .md twin."),
        ]]
        for (n, entry) in transcript.entries.enumerated() {
            var cell: [String: Any] = [
                "cell_type": "code", "id": "cell-\(n + 1)", "metadata": [String: Any](),
                "execution_count": n + 1, "source": lines(entry.command), "outputs": [[String: Any]](),
            ]
            if !entry.output.isEmpty {
                cell["outputs"] = [["output_type": "stream", "name": "stdout", "text": lines(entry.output)]]
            }
            cells.append(cell)
        }
        let notebook: [String: Any] = [
            "nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": [
                "kernelspec": ["name": "lmlab", "display_name": "lmlab", "language": "lmlab"],
                "language_info": ["name": "lmlab", "file_extension": ".lab", "mimetype": "text/plain"],
                "lmlab": ["version": LMLabInfo.version, "saved": timestamp(Date())],
            ],
        ]
        return try JSONSerialization.data(withJSONObject: notebook, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// nbformat stores multi-line text as a list of lines, each keeping its newline.
    static func lines(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        for c in text {
            current.append(c)
            if c == "\n" { out.append(current); current = "" }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// Writes next to the target and renames, so a crash never leaves half a file.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw CommandError.failed("can't write '\(TextUtil.sanitize(url.path))': \(TextUtil.reason(for: error))")
        }
    }
}
