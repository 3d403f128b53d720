/// The output formats every report command offers.
enum OutputFormat: String, EnumerableFlag {
    case text, json, csv, markdown

    static func help(for value: OutputFormat) -> ArgumentHelp? {
        switch value {
        case .text: return "Human-readable text (the default)."
        case .json: return "One JSON object (keys are documented in the README)."
        case .csv: return "Comma-separated values, raw numbers."
        case .markdown: return "Markdown tables."
        }
    }
}

import ArgumentParser

/// A table rendered as aligned text, CSV or Markdown.
struct Table {
    enum Alignment { case left, right }

    struct Column {
        var title: String
        var alignment: Alignment
    }

    var columns: [Column]
    var rows: [[String]]

    init(_ columns: [(String, Alignment)], rows: [[String]] = []) {
        self.columns = columns.map { Column(title: $0.0, alignment: $0.1) }
        self.rows = rows
    }

    /// Two-space indented, padded columns under a header line (none when `header` is false).
    func text(header: Bool = true) -> String {
        var widths = columns.map { $0.title.count }
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { i, cell -> String in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                if columns[i].alignment == .right { return pad + cell }
                return i == cells.count - 1 ? cell : cell + pad
            }
            var text = "  " + padded.joined(separator: "  ")
            // Drop the padding after the last non-empty cell, in place (rebuilding
            // the string from reversed characters cost most of a summary's time).
            while text.utf8.last == UInt8(ascii: " ") { text.removeLast() }
            return text
        }
        return ((header ? [line(columns.map(\.title))] : []) + rows.map(line)).joined(separator: "\n") + "\n"
    }

    /// RFC 4180 CSV: a header row, fields quoted when they need it.
    func csv() -> String {
        func field(_ text: String) -> String {
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
            return "\"" + text.replacing("\"", with: "\"\"") + "\""
        }
        return ([columns.map(\.title)] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// A GitHub-flavoured Markdown table.
    func markdown() -> String {
        func cell(_ text: String) -> String { text.replacing("|", with: "\\|") }
        let header = "| " + columns.map { cell($0.title) }.joined(separator: " | ") + " |"
        let rule = "|" + columns.map { $0.alignment == .right ? "---:|" : "---|" }.joined()
        let body = rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
        return ([header, rule] + body).joined(separator: "\n") + "\n"
    }
}
