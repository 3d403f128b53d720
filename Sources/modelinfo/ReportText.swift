import ModelInfo

/// Text, Markdown and CSV forms of an `AnalysisReport`.
enum ReportText {
    /// How the node table is laid out.
    struct Layout {
        /// The report keeps only the top nodes by MACs (`AnalysisReport.keepTopNodes`).
        var top: Int?
        /// Full names and shapes, however wide the table gets.
        var wide = false
        /// List Identity and Constant nodes too.
        var allNodes = false
        /// Inputs whose open batch dimension took the default 1.
        var defaultBatchInputs: [String] = []
        /// The batch the analysis used.
        var batch = 1
        /// Columns the node table may fill (the terminal's width, at least `terminalWidth`).
        var columns = terminalWidth
        /// A bar of each row's MACs after the table's numbers.
        var bars = false
    }

    /// Operators that do no work: the tables count them in one line instead of listing them.
    static let bookkeepingOps: Set<String> = ["Identity", "Constant"]

    /// Columns a bar of MACs takes.
    static let barWidth = 10

    /// Whether a terminal of `columns` has room for the bars beside the table.
    static func fitsBars(columns: Int) -> Bool { columns >= terminalWidth + barWidth + 2 }

    /// `value` of `largest` as a run of block characters, in eighths of a column.
    static func bar(_ value: Int, of largest: Int, width: Int = barWidth) -> String {
        guard largest > 0, value > 0 else { return "" }
        let eighths = max(1, Int((Double(value) / Double(largest) * Double(width * 8)).rounded()))
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + partial[eighths % 8]
    }

    /// The width the default text fits in.
    static let terminalWidth = 100

    /// Summary, per-node (or grouped) table, totals and unknown operators.
    static func text(_ report: AnalysisReport, analysis: ModelAnalysis, layout: Layout) -> String {
        var out = SummaryText.render(report.summary, usedShapes: usedShapes(report, analysis: analysis)) + "\n"
        out += heading(report, top: layout.top) + "\n"
        let rows = nodeRows(report, layout: layout)
        out += table(report, nodes: rows.shown, raw: false, wide: layout.wide, columns: layout.columns, bars: layout.bars).text()
        if let folded = rows.foldedNote { out += "  " + folded + "\n" }
        out += "\nTotals\n" + totalsTable(report.totals).text(header: false)
        if let figures = report.languageModel {
            out += "\nLanguage model\n" + languageModelTable(figures, batch: layout.batch).text(header: false)
        }
        out += notes(report, analysis: analysis, defaultBatchInputs: layout.defaultBatchInputs).map { wrap($0) }.joined()
        return out
    }

    /// The nodes the table lists, and a line for the bookkeeping nodes it leaves out.
    static func nodeRows(_ report: AnalysisReport, layout: Layout) -> (shown: [AnalysisReport.Node], foldedNote: String?) {
        guard report.groups == nil, layout.top == nil, !layout.allNodes else { return (report.nodes, nil) }
        // A torchvision ResNet's table opened with 47 Identity rows.
        let bookkeeping = bookkeepingOps
        let shown = report.nodes.filter { !bookkeeping.contains($0.op) }
        guard shown.count < report.nodes.count else { return (shown, nil) }
        var counts: [String: Int] = [:]
        for node in report.nodes where bookkeeping.contains(node.op) { counts[node.op, default: 0] += 1 }
        let parts = counts.sorted { $0.key > $1.key }.map { "\($0.value) \($0.key)" }
        return (shown, "(\(parts.joined(separator: " and ")) node\(report.nodes.count - shown.count == 1 ? "" : "s") not listed; --all-nodes lists them)")
    }

    /// For each input whose shape the analysis used differs from the declared one, the shape used.
    static func usedShapes(_ report: AnalysisReport, analysis: ModelAnalysis) -> [String: String] {
        var used: [String: String] = [:]
        for input in report.summary.inputs {
            guard let shape = analysis.facts[input.name]?.shape else { continue }
            let text = shapeText(shape.dims.map(ModelSummary.ShapeDim.init))
            if text != shapeText(input.shape) { used[input.name] = text }
        }
        return used
    }

    /// Lines after the totals: the default batch, unknown operators, why nodes
    /// were not counted, and what would help.
    static func notes(_ report: AnalysisReport, analysis: ModelAnalysis, defaultBatchInputs: [String]) -> [String] {
        var notes: [String] = []
        if !defaultBatchInputs.isEmpty {
            // A decoder has two cache inputs per layer: name a few, count the rest.
            let named = defaultBatchInputs.count > 4 ? defaultBatchInputs.prefix(2).joined(separator: ", ")
                + " and \(defaultBatchInputs.count - 2) other inputs" : defaultBatchInputs.joined(separator: ", ")
            notes.append("The open batch dimension of \(named) was taken as 1; --batch N sets it.")
        }
        if !report.unknownOps.isEmpty {
            notes.append("Not counted, unknown operators: " + report.unknownOps.map { "\($0.op) ×\($0.count)" }.joined(separator: ", ") + ".")
        }
        let estimated = analysis.nodes.filter(\.isEstimate)
        if let first = estimated.first {
            notes.append("Estimated: \(estimated.count) control-flow node\(estimated.count == 1 ? "" : "s"). "
                         + "The first, \(label(first)): \(first.note ?? "").")
        }
        let uncounted = analysis.nodes.filter { $0.status != .counted && $0.status != .unknownOperator }
        guard let first = uncounted.first else { return notes }
        var ops: [String] = []
        for node in uncounted where !ops.contains(node.op) { ops.append(node.op) }
        notes.append("Not counted: \(uncounted.count) node\(uncounted.count == 1 ? "" : "s") (\(ops.joined(separator: ", "))). "
                     + "The first, \(label(first)): \(reason(first)).")
        // The hint only while some input still has an open dimension.
        let openShapes = analysis.inputs.compactMap { name -> (String, Shape)? in
            guard let shape = analysis.facts[name]?.shape, shape.dims.contains(where: { $0.value == nil }) else { return nil }
            return (name, shape)
        }
        var symbols: [String] = []
        for (_, shape) in openShapes {
            for case .symbol(let name) in shape.dims where !symbols.contains(name) { symbols.append(name) }
        }
        // Named dimensions shared by several inputs are set once by name.
        if !openShapes.isEmpty, openShapes.allSatisfy({ $0.1.dims.allSatisfy { $0.value != nil || $0 != .unknown } }) {
            notes.append("Some inputs have symbolic dimensions; give them, e.g. --symbol "
                         + symbols.map { "\($0)=N" }.joined(separator: ",") + ".")
        } else if !openShapes.isEmpty {
            notes.append("Some inputs have open dimensions; give them, e.g. "
                         + openShapes.map { "--input-shape \($0.0)=\(ModelInputs.example($0.1, batch: 1))" }.joined(separator: " ") + ".")
        }
        return notes
    }

    /// `#3 /conv1/Conv (Conv)`, or `#3 (Conv)` for a node without a name.
    static func label(_ node: NodeReport) -> String {
        node.node.name.isEmpty ? "#\(node.index) (\(node.op))" : "#\(node.index) \(node.name) (\(node.op))"
    }

    /// Why a node's work could not be counted.
    static func reason(_ node: NodeReport) -> String {
        if case .invalid(let why) = node.status { return why }
        if let note = node.note { return note }
        for (i, fact) in node.inputs.enumerated() {
            guard let fact, !node.node.inputs[i].isEmpty else { continue }
            guard let shape = fact.shape else { return "the rank of input '\(node.node.inputs[i])' is not known" }
            if shape.dims.contains(where: { $0.value == nil }) {
                return "input '\(node.node.inputs[i])' is \(shapeText(shape.dims.map(ModelSummary.ShapeDim.init))), not fully known"
            }
        }
        return "its cost depends on values that are not known before running it"
    }

    /// Breaks a long line at spaces so that it fits the terminal width; continuation lines are indented.
    static func wrap(_ line: String) -> String {
        var out = "", current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if !current.isEmpty && current.count + 1 + word.count > terminalWidth {
                out += current + "\n"
                current = "  " + word
            } else {
                current += (current.isEmpty ? "" : " ") + word
            }
        }
        return out + current + "\n"
    }

    static func markdown(_ report: AnalysisReport, analysis: ModelAnalysis, layout: Layout) -> String {
        let s = report.summary
        var out = "# \(s.file)\n\n"
        out += "- format: \(s.format.rawValue), IR version \(s.irVersion), producer \([s.producerName, s.producerVersion].filter { !$0.isEmpty }.joined(separator: " "))\n"
        out += "- opsets: " + s.opsets.map { "\($0.domain) \($0.version)" }.joined(separator: ", ") + "\n"
        let used = usedShapes(report, analysis: analysis)
        out += "- inputs: " + s.inputs.map { "`\($0.name)` \($0.type)" + (used[$0.name].map { " (used: \($0))" } ?? "") }.joined(separator: ", ") + "\n"
        out += "- outputs: " + s.outputs.map { "`\($0.name)` \($0.type)" }.joined(separator: ", ") + "\n\n"
        let rows = nodeRows(report, layout: layout)
        out += "## " + heading(report, top: layout.top) + "\n\n" + table(report, nodes: rows.shown, raw: false, wide: true).markdown()
        if let folded = rows.foldedNote { out += "\n" + folded + "\n" }
        out += "\n## Totals\n\n" + totalsTable(report.totals).markdown()
        if let figures = report.languageModel {
            out += "\n## Language model\n\n" + languageModelTable(figures, batch: layout.batch).markdown()
        }
        let notes = notes(report, analysis: analysis, defaultBatchInputs: layout.defaultBatchInputs)
        if !notes.isEmpty { out += "\n" + notes.joined(separator: "\n") + "\n" }
        return out
    }

    static func heading(_ report: AnalysisReport, top: Int?) -> String {
        if let key = report.groupBy { return "By \(key.rawValue)" }
        if let top { return "Top \(top) nodes by MACs" }
        return "Nodes"
    }

    /// The node table for `nodes`, or the group table with `--group-by`. `raw`
    /// prints exact numbers and every column (CSV); otherwise, unless `wide`,
    /// names, ops and shapes are shortened in the middle to fit `columns`.
    /// With `bars`, a last column draws each row's MACs against the largest.
    static func table(_ report: AnalysisReport, nodes: [AnalysisReport.Node], raw: Bool, wide: Bool,
                      columns: Int = terminalWidth, bars: Bool = false) -> Table {
        let totalMACs = report.totals.macs
        func share(_ macs: Int) -> String {
            totalMACs > 0 ? Units.fixed(100 * Double(macs) / Double(totalMACs), digits: 1) + "%" : "—"
        }
        func number(_ value: Int) -> String { raw ? String(value) : Units.scaled(value) }

        if let groups = report.groups {
            var table = Table([(report.groupBy?.rawValue ?? "group", .left), ("nodes", .right), ("params", .right),
                               ("MACs", .right), ("% MACs", .right), ("FLOPs", .right), ("uncounted", .right)])
            table.rows = groups.map { g in
                let complete = g.uncountedNodes == 0
                return [g.key, String(g.nodes), number(g.params), partial(number(g.macs), g.macs, complete: complete),
                        complete || g.macs > 0 ? share(g.macs) : "?", partial(number(g.flops), g.flops, complete: complete),
                        String(g.uncountedNodes)]
            }
            if bars { addBars(&table, values: groups.map(\.macs)) }
            return table
        }

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
            let op = wide ? n.op : Units.shortened(n.op, limit: 22)
            let shape = wide ? shapeText(n.outputShapes.first ?? nil) : Units.shortened(shapeText(n.outputShapes.first ?? nil), limit: 20)
            // "~": a control-flow node counted for its larger branch or one iteration.
            let macs = counted ? (n.estimate == nil ? "" : "~ ") + number(n.macs) : "?"
            return [String(n.index), n.name, op, shape, n.params > 0 ? number(n.params) : "", macs, counted ? share(n.macs) : "?"]
        }
        if bars { addBars(&table, values: nodes.map { $0.status == "counted" ? $0.macs : 0 }) }
        guard !wide else { return table }
        // The name takes what the other columns leave of the terminal width.
        let others = (0..<table.columns.count).filter { $0 != 1 }.map { i in
            table.rows.map { $0[i].count }.max().map { max($0, table.columns[i].title.count) } ?? table.columns[i].title.count
        }
        let limit = max(16, columns - 2 - 2 * (table.columns.count - 1) - others.reduce(0, +))
        for i in table.rows.indices { table.rows[i][1] = Units.shortened(table.rows[i][1], limit: limit) }
        return table
    }

    /// Appends a column of bars of `values`, one per row, against the largest.
    static func addBars(_ table: inout Table, values: [Int]) {
        let largest = values.max() ?? 0
        table.columns.append(Table.Column(title: "", alignment: .left))
        for (i, value) in values.enumerated() where i < table.rows.count { table.rows[i].append(bar(value, of: largest)) }
    }

    /// A sum over nodes some of which could not be counted: `≥ 1.2 M`, or
    /// `?` when nothing was found, never a zero that looks like a measurement.
    static func partial(_ text: String, _ value: Int, complete: Bool) -> String {
        if complete { return text }
        return value == 0 ? "?" : "≥ " + text
    }

    /// The totals, each marked with `partial` when some nodes were not
    /// counted, and with `~` when control flow made some counts estimates.
    static func totalsTable(_ t: AnalysisTotals) -> Table {
        let complete = t.countedNodes == t.nodes
        func counted(_ text: String, _ value: Int) -> String {
            let shown = partial(text, value, complete: complete)
            return t.estimatedNodes > 0 && shown != "?" ? "~ " + shown : shown
        }
        var rows = [
            ["params", Units.scaled(t.params), t.paramsUnique == t.params ? "" : "(\(Units.scaled(t.paramsUnique)) unique)"],
            ["MACs", counted(Units.scaled(t.macs), t.macs), ""],
            ["FLOPs", counted(Units.scaled(t.flops), t.flops), ""],
            ["weights", Units.bytes(t.weightBytes), ""],
            ["peak activations", t.peakActivationBytes.map(Units.bytes) ?? "?", ""],
            ["activations", counted(Units.bytes(t.activationBytes), t.activationBytes), "(every node output, summed)"],
            ["memory traffic", counted(Units.bytes(t.bytesRead + t.bytesWritten), t.bytesRead + t.bytesWritten),
             "(read \(Units.bytes(t.bytesRead)), written \(Units.bytes(t.bytesWritten)))"],
            ["nodes counted", "\(t.countedNodes) of \(t.nodes)", t.estimatedNodes > 0 ? "(\(t.estimatedNodes) estimated)" : ""],
        ]
        if let node = t.peakActivationNode, let peak = rows.firstIndex(where: { $0[0] == "peak activations" }) {
            // The node's name gets at most 40 columns, and no more than the
            // other two columns (as wide as their widest cell) leave of the line.
            let note = "(the most alive at once, at )"
            let used = (0..<2).map { column in rows.map { $0[column].count }.max() ?? 0 }.reduce(0, +)
            let limit = min(40, max(16, terminalWidth - 2 - used - 2 * 2 - note.count))
            rows[peak][2] = "(the most alive at once, at " + Units.shortened(node, limit: limit) + ")"
        }
        return Table([("total", .left), ("value", .right), ("", .left)], rows: rows)
    }

    /// Prefill and decode cost per token, the KV cache, parameters by kind;
    /// a hint instead of figures that need token counts not given.
    static func languageModelTable(_ lm: LanguageModelFigures, batch: Int) -> Table {
        let seq = lm.sequenceSymbol, past = lm.pastSymbol ?? "past"
        var rows: [[String]] = []
        func perToken(_ step: LanguageModelFigures.Step) -> String {
            (step.complete ? "" : "≥ ") + Units.scaled(step.flopsPerToken) + " FLOPs per token"
        }
        if let step = lm.prefill {
            rows.append(["prefill", perToken(step), "(\(step.tokens) tokens after \(step.past) cached, \(Units.scaled(step.flops)) FLOPs in all)"])
        } else {
            rows.append(["prefill", "?", "(--symbol \(seq)=N gives the tokens)"])
        }
        if let step = lm.decode {
            rows.append(["decode step", perToken(step), "(1 token after \(step.past) cached)"])
        } else if lm.pastSymbol != nil {
            rows.append(["decode step", "?", "(--symbol \(seq)=N,\(past)=N gives the tokens)"])
        }
        if let perToken = lm.kvCacheBytesPerToken {
            let tokens = (lm.prefill.map { $0.tokens + $0.past } ?? lm.decode?.past)
            rows.append(["KV cache", Units.bytes(perToken) + " per token",
                         "(" + (lm.kvCacheBytes.map { "\(Units.bytes($0)) after \(tokens ?? 0) tokens, " } ?? "") + "batch \(batch))"])
        }
        let p = lm.parameters
        let kinds = [("embedding", p.embedding), ("attention", p.attention), ("MLP", p.mlp), ("norm", p.normalization),
                     ("head", p.head), ("other", p.other)].filter { $0.1 > 0 }
        // One row per kind of parameter, with its share of the unique parameters.
        let unique = max(1, kinds.reduce(0) { $0 + $1.1 })
        for (kind, count) in kinds {
            let share = Units.fixed(100 * Double(count) / Double(unique), digits: 1) + "%"
            let tied = lm.tiedHead && kind == "embedding" ? ", the head reuses it" : ""
            rows.append([kind, Units.scaled(count) + " parameters", "(\(share) of the unique\(tied))"])
        }
        return Table([("", .left), ("", .left), ("", .left)], rows: rows)
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
