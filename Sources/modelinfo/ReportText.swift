import ModelInfo

/// Text, Markdown and CSV forms of an `AnalysisReport`.
enum ReportText {
    /// Summary, per-node (or grouped) table, totals and unknown operators.
    static func text(_ report: AnalysisReport, analysis: ModelAnalysis, top: Int?) -> String {
        var out = SummaryText.render(report.summary) + "\n"
        out += heading(report, top: top) + "\n"
        out += table(report, analysis: analysis, top: top, raw: false).text() + "\n"
        out += "Totals\n" + totalsTable(report.totals).text(header: false)
        out += unknownLine(report) + uncountedHint(report)
        return out
    }

    /// Which nodes the totals leave out because their shapes or their work are not known, and how to help.
    static func uncountedHint(_ report: AnalysisReport) -> String {
        let uncounted = report.nodes.filter { $0.status == "uncounted" }
        guard !uncounted.isEmpty else { return "" }
        var ops: [String] = []
        for node in uncounted where !ops.contains(node.op) { ops.append(node.op) }
        var text = "Not counted: \(uncounted.count) node\(uncounted.count == 1 ? "" : "s") (\(ops.joined(separator: ", "))) whose shapes or work are not known"
        let symbols = Set(report.summary.inputs.flatMap { $0.shape ?? [] }.compactMap { dim -> String? in
            if case .symbol(let s) = dim { return s }
            return nil
        }).sorted()
        if !symbols.isEmpty {
            text += "; the inputs have symbolic dims (\(symbols.joined(separator: ", "))): fix them with --batch N or --input-shape NAME=DIMS"
        }
        return text + ".\n"
    }

    static func markdown(_ report: AnalysisReport, analysis: ModelAnalysis, top: Int?) -> String {
        let s = report.summary
        var out = "# \(s.file)\n\n"
        out += "- format: \(s.format.rawValue), IR version \(s.irVersion), producer \([s.producerName, s.producerVersion].filter { !$0.isEmpty }.joined(separator: " "))\n"
        out += "- opsets: " + s.opsets.map { "\($0.domain) \($0.version)" }.joined(separator: ", ") + "\n"
        out += "- inputs: " + s.inputs.map { "`\($0.name)` \($0.type)" }.joined(separator: ", ") + "\n"
        out += "- outputs: " + s.outputs.map { "`\($0.name)` \($0.type)" }.joined(separator: ", ") + "\n\n"
        out += "## " + heading(report, top: top) + "\n\n" + table(report, analysis: analysis, top: top, raw: false).markdown()
        out += "\n## Totals\n\n" + totalsTable(report.totals).markdown()
        let notes = unknownLine(report) + uncountedHint(report)
        if !notes.isEmpty { out += "\n" + notes }
        return out
    }

    static func heading(_ report: AnalysisReport, top: Int?) -> String {
        if let key = report.groupBy { return "By \(key.rawValue)" }
        if let top { return "Top \(top) nodes by MACs" }
        return "Nodes"
    }

    /// The node table, or the group table with `--group-by`. `raw` prints exact numbers (CSV).
    static func table(_ report: AnalysisReport, analysis: ModelAnalysis, top: Int?, raw: Bool) -> Table {
        let totalMACs = report.totals.macs
        func share(_ macs: Int) -> String {
            totalMACs > 0 ? Units.fixed(100 * Double(macs) / Double(totalMACs), digits: 1) + "%" : "—"
        }
        func number(_ value: Int) -> String { raw ? String(value) : Units.scaled(value) }

        if let groups = report.groups {
            var table = Table([(report.groupBy?.rawValue ?? "group", .left), ("nodes", .right), ("params", .right),
                               ("MACs", .right), ("% MACs", .right), ("FLOPs", .right), ("uncounted", .right)])
            table.rows = groups.map { g in
                [g.key, String(g.nodes), number(g.params), number(g.macs), share(g.macs), number(g.flops), String(g.uncountedNodes)]
            }
            return table
        }

        var nodes = report.nodes
        if let top { nodes = Array(nodes.sorted { $0.macs > $1.macs }.prefix(top)) }
        if raw {
            var table = Table([("index", .right), ("name", .left), ("op", .left), ("outputShape", .left), ("params", .right),
                               ("macs", .right), ("flops", .right), ("weightBytes", .right), ("activationBytes", .right),
                               ("bytesRead", .right), ("bytesWritten", .right), ("arithmeticIntensity", .right), ("status", .left)])
            table.rows = nodes.map { n in
                [String(n.index), n.name, n.op, shapeText(n.outputShapes.first ?? nil), String(n.params), String(n.macs),
                 String(n.flops), String(n.weightBytes), String(n.activationBytes), String(n.bytesRead), String(n.bytesWritten),
                 n.arithmeticIntensity.map { Units.fixed($0, digits: 3) } ?? "", n.status]
            }
            return table
        }
        var table = Table([("#", .right), ("name", .left), ("op", .left), ("output shape", .left), ("params", .right),
                           ("MACs", .right), ("% MACs", .right)])
        table.rows = nodes.map { n in
            // A node whose cost is unknown shows "?", never a zero that looks counted.
            let counted = n.status == "counted"
            return [String(n.index), Units.shortened(n.name, limit: 40), n.op, shapeText(n.outputShapes.first ?? nil),
                    n.params > 0 ? number(n.params) : "", counted ? number(n.macs) : "?", counted ? share(n.macs) : "?"]
        }
        return table
    }

    static func totalsTable(_ t: AnalysisTotals) -> Table {
        Table([("total", .left), ("value", .right), ("", .left)], rows: [
            ["params", Units.scaled(t.params), t.paramsUnique == t.params ? "" : "(\(Units.scaled(t.paramsUnique)) unique)"],
            ["MACs", Units.scaled(t.macs), ""],
            ["FLOPs", Units.scaled(t.flops), ""],
            ["weights", Units.bytes(t.weightBytes), ""],
            ["activations", Units.bytes(t.activationBytes), ""],
            ["memory traffic", Units.bytes(t.bytesRead + t.bytesWritten), "(read \(Units.bytes(t.bytesRead)), written \(Units.bytes(t.bytesWritten)))"],
            ["nodes counted", "\(t.countedNodes) of \(t.nodes)", ""],
        ])
    }

    static func unknownLine(_ report: AnalysisReport) -> String {
        guard !report.unknownOps.isEmpty else { return "" }
        return "Not counted, unknown operators: " + report.unknownOps.map { "\($0.op) ×\($0.count)" }.joined(separator: ", ") + "\n"
    }

    static func shapeText(_ dims: [ModelSummary.ShapeDim]?) -> String {
        guard let dims else { return "?" }
        if dims.isEmpty { return "scalar" }
        return dims.map { dim in
            switch dim {
            case .known(let v): return String(v)
            case .symbol(let s): return s
            case .unknown: return "?"
            }
        }.joined(separator: "×")
    }
}
