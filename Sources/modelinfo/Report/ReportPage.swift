import ModelInfo

/// The report as one self-contained HTML page (inline SVG, CSS and script;
/// nothing fetched), and its figures as standalone SVG files.
struct ReportPage {
    var models: [ReportModel]
    /// The charts the page shows, by the file name `--svg DIR` gives them:
    /// made once, for the page and for the files.
    private var charts: [String: String] = [:]

    init(models: [ReportModel]) {
        self.models = models
        let colors = OpColors(models)
        charts["resolution.svg"] = Charts.resolution(models)
        for (m, model) in models.enumerated() {
            let stageKeys = model.stageGroups.map(\.key)
            charts["layers-\(m).svg"] = Charts.layers(model, index: m, colors: colors)
            charts["stages-\(m).svg"] = Charts.breakdown(model.stageGroups, id: "chart-stages-\(m)",
                                                         title: "\(model.name): MACs by stage") { key in
                Palette.colors[(stageKeys.firstIndex(of: key) ?? 0) % Palette.colors.count]
            }
            charts["ops-\(m).svg"] = Charts.breakdown(model.opGroups, id: "chart-ops-\(m)", title: "\(model.name): MACs by operator",
                                                      colorOf: colors.color)
            if let precision = model.precision {
                charts["precision-\(m).svg"] = Charts.precision(precision, modelName: model.name)
            }
        }
    }

    /// Every figure by its file name: the charts, and each graph drawn
    /// whole (the page draws its graphs with its script instead).
    var figures: [(file: String, svg: String)] {
        charts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            + models.indices.map { m in ("graph-\(m).svg", GraphFigure.svg(models[m], index: m)) }
    }

    private func chart(_ file: String) -> String { charts[file] ?? "" }

    /// The whole page.
    func html() -> String {
        let title = "modelinfo report: " + models.map(\.name).joined(separator: " vs ")
        var out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        out += "<title>\(Markup.escaped(title))</title><style>\(ReportScript.css)</style></head><body>"
        out += "<main id=\"report\" data-models=\"\(models.count)\"><h1>\(Markup.escaped(title))</h1>"
        out += header()
        out += section("resolution", "Where the work happens: MACs and parameters by resolution",
                       "<div class=\"scroll\">" + chart("resolution.svg") + "</div>")
        out += section("layers", "Per layer", models.enumerated().map { m, model in
            "<h3>\(Markup.escaped(model.name))</h3><p class=\"hint\">Hover a bar for the node; click it to show the node in the graph.</p>"
                + "<div class=\"scroll\">" + chart("layers-\(m).svg") + "</div>"
        }.joined())
        out += section("stages", "By stage", models.enumerated().map { m, model in
            "<h3>\(Markup.escaped(model.name))</h3><div class=\"scroll\">" + chart("stages-\(m).svg") + "</div>"
                + groupTable(model.stageGroups, title: "stage", total: model.analysis.totals.macs)
        }.joined())
        out += section("ops", "By operator", models.enumerated().map { m, model in
            "<h3>\(Markup.escaped(model.name))</h3><div class=\"scroll\">" + chart("ops-\(m).svg") + "</div>"
                + groupTable(model.opGroups, title: "operator", total: model.analysis.totals.macs)
        }.joined())
        for (m, model) in models.enumerated() {
            let coloring = model.profile == nil ? "its share of the model's MACs" : "its share of the measured time"
            out += section("graph-\(m)", "Graph: \(model.name)", """
                <p class="hint">Each node is coloured by \(coloring). Click a stage's title to fold or unfold it; drag to pan, scroll to zoom.</p>
                <div class="graph-tools"><input id="graph-search-\(m)" class="graph-search" data-m="\(m)" type="search" placeholder="Find a node by name (Enter for the next)" autocomplete="off">
                <span class="search-result" id="search-result-\(m)"></span>
                <button type="button" data-m="\(m)" data-action="unfold">Unfold all</button><button type="button" data-m="\(m)" data-action="fold">Fold all</button><button type="button" data-m="\(m)" data-action="fit">Fit</button></div>
                <svg xmlns="http://www.w3.org/2000/svg" class="graph" id="graph-view-\(m)" data-m="\(m)"></svg>
                <div class="node-details" id="node-details-\(m)">No node selected.</div>
                """)
        }
        for (m, model) in models.enumerated() {
            guard let precision = model.precision else { continue }
            out += section("precision-\(m)", "Precision: \(model.name) against its reference", precisionSummary(precision)
                + "<div class=\"scroll\">" + chart("precision-\(m).svg") + "</div>")
        }
        out += "</main><div id=\"tooltip\" hidden></div>"
        out += "<script type=\"application/json\" id=\"report-data\">" + GraphData.json(models) + "</script>"
        out += "<script>" + ReportScript.javascript + "</script></body></html>\n"
        return out
    }

    private func section(_ id: String, _ title: String, _ content: String) -> String {
        "<section id=\"\(id)\"><h2>\(Markup.escaped(title))</h2>\(content)</section>"
    }

    /// What is in each model and what it costs, side by side.
    private func header() -> String {
        func row(_ label: String, _ values: (ReportModel) -> String) -> String {
            "<tr><th>\(Markup.escaped(label))</th>" + models.map { "<td>\(Markup.escaped(values($0)))</td>" }.joined() + "</tr>"
        }
        let totals = { (model: ReportModel) in model.analysis.totals }
        func counted(_ model: ReportModel, _ text: String) -> String {
            let t = totals(model)
            return (t.countedNodes == t.nodes ? "" : "≥ ") + text
        }
        var rows = [
            row("file") { $0.summary.file },
            row("format") { $0.summary.format.rawValue + ($0.summary.fileBytes > 0 ? ", " + Units.bytes($0.summary.fileBytes) : "") },
            row("producer") { [$0.summary.producerName, $0.summary.producerVersion].filter { !$0.isEmpty }.joined(separator: " ") },
            row("opsets") { $0.summary.opsets.map { "\($0.domain.isEmpty ? "ai.onnx" : $0.domain) \($0.version)" }.joined(separator: ", ") },
            row("inputs") { $0.summary.inputs.map { "\($0.name) \($0.type)" }.joined(separator: ", ") },
            row("parameters") { Units.scaled(totals($0).params) + (totals($0).paramsUnique == totals($0).params ? "" : " (\(Units.scaled(totals($0).paramsUnique)) unique)") },
            row("MACs") { counted($0, Units.scaled(totals($0).macs)) },
            row("FLOPs") { counted($0, Units.scaled(totals($0).flops)) },
            row("weights") { Units.bytes(totals($0).weightBytes) },
            row("peak activation memory") { model in
                totals(model).peakActivationBytes.map { Units.bytes($0) + (totals(model).peakActivationNode.map { " at " + $0 } ?? "") } ?? "?"
            },
            row("nodes") { "\(totals($0).countedNodes) of \(totals($0).nodes) counted" },
            row("unknown operators") { model in
                let unknown = model.analysis.unknownOperators
                return unknown.isEmpty ? "none" : unknown.map { "\($0.op) ×\($0.count)" }.joined(separator: ", ")
            },
        ]
        if models.contains(where: { $0.profile != nil }) {
            rows.append(row("measured") { model in
                model.profile.map { "\(Units.fixed($0.medianMs, digits: 2)) ms median, \($0.threads) threads" } ?? "—"
            })
        }
        return "<section id=\"summary\"><table class=\"summary\"><tr><th></th>"
            + models.map { "<th>\(Markup.escaped($0.name))</th>" }.joined() + "</tr>" + rows.joined() + "</table></section>"
    }

    private func groupTable(_ groups: [NodeGroup], title: String, total: Int) -> String {
        var out = "<table class=\"breakdown\"><tr><th>\(title)</th><th>nodes</th><th>parameters</th><th>MACs</th><th>% MACs</th><th>FLOPs</th></tr>"
        for group in groups {
            let share = total > 0 ? Units.fixed(100 * Double(group.macs) / Double(total), digits: 1) + "%" : "—"
            let partial = group.uncountedNodes > 0 ? "≥ " : ""
            out += "<tr><td>\(Markup.escaped(group.key))</td><td>\(group.nodes)</td><td>\(Units.scaled(group.params))</td>"
                + "<td>\(partial)\(Units.scaled(group.macs))</td><td>\(share)</td><td>\(partial)\(Units.scaled(group.flops))</td></tr>"
        }
        return out + "</table>"
    }

    private func precisionSummary(_ precision: PrecisionRecord) -> String {
        let failing = precision.nodes.filter { !$0.withinTolerance }.count
        var text = "\(precision.nodes.count) values compared at atol \(Units.significant(precision.atol)), rtol \(Units.significant(precision.rtol)); "
            + "\(failing) outside tolerance."
        if let first = precision.firstDivergence {
            text += " First divergence: \(first.node) (\(first.op)), largest absolute error \(Units.significant(first.maxAbsError))."
        }
        return "<p>\(Markup.escaped(text))</p>"
    }
}
