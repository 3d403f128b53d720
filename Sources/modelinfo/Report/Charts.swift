#if canImport(Glibc)
import Glibc
#endif
import ModelInfo

/// The report's figures. Each returns a standalone SVG, which the page
/// shows inline and `--svg DIR` writes to a file.
enum Charts {
    /// Left margin for axis labels, right margin, and panel height.
    static let left = 78.0, right = 16.0, panelHeight = 120.0, panelGap = 26.0

    /// An axis label without the zeros that round steps leave: `8 G`, `2.5 M`, `15 MB`.
    static func tick(_ text: String) -> String {
        guard let dot = text.firstIndex(of: ".") else { return text }
        let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
        var kept = String(digits)
        while kept.last == "0" { kept.removeLast() }
        return String(text[..<dot]) + (kept.isEmpty ? "" : "." + kept) + text[text.index(after: dot)...].dropFirst(digits.count)
    }

    /// One panel of the per-layer chart: what it shows and how to label its axis.
    struct LayerPanel {
        var title: String
        var value: (NodeReport) -> Double
        var label: (Double) -> String
    }

    /// MACs, parameters and output bytes of every listed node in execution
    /// order (and measured time, with a profile), one bar per node, coloured
    /// by op. Bars carry the node's index for the page's hover and click.
    static func layers(_ model: ReportModel, index m: Int, colors: OpColors) -> String {
        var panels = [
            LayerPanel(title: "MACs", value: { Double($0.macs) }, label: { tick(Units.scaled(Int($0))) }),
            LayerPanel(title: "parameters", value: { Double($0.params) }, label: { tick(Units.scaled(Int($0))) }),
            LayerPanel(title: "output bytes", value: { Double($0.activationBytes) }, label: { tick(Units.bytes(Int($0))) }),
        ]
        if model.profile != nil {
            panels.append(LayerPanel(title: "time (ms)", value: { model.milliseconds[$0.index] ?? 0 }, label: { Units.significant($0) }))
        }
        let rows = model.rows
        let barWidth = rows.count > 300 ? 3.0 : max(3, min(24, 900 / Double(max(rows.count, 1))))
        let plotWidth = max(880, barWidth * Double(rows.count))
        let ops = colors.legend(for: rows.map(\.op))
        let legendHeight = SVGFigure.legendLayout(ops.map(\.label), maxWidth: plotWidth).height
        var figure = SVGFigure(width: left + plotWidth + right,
                               height: Double(panels.count) * (panelHeight + panelGap) + 24 + legendHeight)
        var top = 12.0
        for panel in panels {
            let values = rows.map(panel.value)
            let axis = ValueAxis(largest: values.max() ?? 0)
            axis.draw(into: &figure, left: left, top: top, height: panelHeight, right: left + plotWidth, title: panel.title,
                      label: panel.label)
            for (k, (row, value)) in zip(rows, values).enumerated() where value > 0 {
                let h = max(0.5, value / axis.maximum * panelHeight)
                figure.rect(left + Double(k) * barWidth, top + panelHeight - h, max(barWidth - (barWidth > 4 ? 1 : 0), 1), h,
                            fill: colors.color(row.op),
                            attributes: " class=\"bar\" data-m=\"\(m)\" data-i=\"\(row.index)\" data-macs=\"\(row.macs)\"")
            }
            top += panelHeight + panelGap
        }
        figure.text(left + plotWidth / 2, top - 8, "\(rows.count) nodes in execution order (Identity and Constant left out)",
                    anchor: "middle", size: 11)
        figure.legend(ops, x: left, y: top + 12, maxWidth: plotWidth)
        return figure.svg(id: "chart-layers-\(m)", title: "\(model.name): MACs, parameters and output bytes per node")
    }

    /// MACs and parameters per spatial resolution, the models side by side:
    /// where each model does its work.
    static func resolution(_ models: [ReportModel]) -> String {
        var keys: [String] = []
        for model in models { for group in model.resolutionGroups where !keys.contains(group.key) { keys.append(group.key) } }
        keys = keys.enumerated().sorted {
            (ModelAnalysis.resolutionSortKey($0.element), $0.offset) < (ModelAnalysis.resolutionSortKey($1.element), $1.offset)
        }.map(\.element)
        let groupWidth = max(56.0, 28.0 * Double(models.count) + 20)
        let plotWidth = max(520, groupWidth * Double(keys.count))
        let colors = models.indices.map { Palette.colors[$0 % Palette.colors.count] }
        let entries = models.enumerated().map { (label: $0.element.name, color: colors[$0.offset]) }
        let legendHeight = SVGFigure.legendLayout(entries.map(\.label), maxWidth: plotWidth).height
        var figure = SVGFigure(width: left + plotWidth + right, height: 2 * (panelHeight + panelGap) + 40 + legendHeight)
        var top = 12.0
        for (title, value, label) in [("MACs", { (g: NodeGroup) in Double(g.macs) }, { (v: Double) in tick(Units.scaled(Int(v))) }),
                                      ("parameters", { (g: NodeGroup) in Double(g.params) }, { (v: Double) in tick(Units.scaled(Int(v))) })] {
            let largest = models.flatMap { $0.resolutionGroups.map(value) }.max() ?? 0
            let axis = ValueAxis(largest: largest)
            axis.draw(into: &figure, left: left, top: top, height: panelHeight, right: left + plotWidth, title: title, label: label)
            let barWidth = (groupWidth - 20) / Double(models.count)
            for (m, model) in models.enumerated() {
                let byKey = Dictionary(model.resolutionGroups.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
                figure.add("<g class=\"series\" data-m=\"\(m)\">")
                for (k, key) in keys.enumerated() {
                    guard let group = byKey[key], value(group) > 0 else { continue }
                    let h = max(0.5, value(group) / axis.maximum * panelHeight)
                    figure.rect(left + Double(k) * groupWidth + 10 + Double(m) * barWidth, top + panelHeight - h, barWidth - 2, h,
                                fill: colors[m], title: "\(model.name) at \(key): \(label(value(group))) \(title)")
                }
                figure.add("</g>")
            }
            top += panelHeight + panelGap
        }
        for (k, key) in keys.enumerated() {
            figure.text(left + (Double(k) + 0.5) * groupWidth, top - panelGap + 14, key, anchor: "middle", size: 10)
        }
        figure.text(left + plotWidth / 2, top + 8, "spatial size of the feature map a node computes", anchor: "middle")
        figure.legend(entries, x: left, y: top + 30, maxWidth: plotWidth)
        return figure.svg(id: "chart-resolution", title: "MACs and parameters by resolution")
    }

    /// One bar of 100% split into the groups' shares of MACs, largest
    /// groups labelled, and a legend with every group's share.
    static func breakdown(_ groups: [NodeGroup], id: String, title: String, colorOf: (String) -> String) -> String {
        let total = groups.reduce(0) { $0 + $1.macs }
        let width = 900.0
        let shown = groups.filter { $0.macs > 0 }
        let entries = shown.map { group -> (label: String, color: String) in
            let share = total > 0 ? 100 * Double(group.macs) / Double(total) : 0
            return ("\(group.key) \(Units.fixed(share, digits: 1))%", colorOf(group.key))
        }
        let legendHeight = SVGFigure.legendLayout(entries.map(\.label), maxWidth: width).height
        var figure = SVGFigure(width: width + 32, height: 72 + legendHeight)
        figure.text(16, 18, title, size: 12, weight: "600")
        var x = 16.0
        for group in shown {
            let w = total > 0 ? Double(group.macs) / Double(total) * width : 0
            figure.rect(x, 28, w, 28, fill: colorOf(group.key), title: "\(group.key): \(Units.scaled(group.macs)) MACs")
            if w > Double(group.key.count) * 6.4 + 8 { figure.text(x + 4, 46, group.key, size: 10.5) }
            x += w
        }
        if shown.isEmpty { figure.text(16, 46, "no MACs counted", size: 11) }
        figure.legend(entries, x: 16, y: 76, maxWidth: width)
        return figure.svg(id: id, title: title)
    }

    /// Per compared value of `verify --reference`, its largest absolute error
    /// on a log scale against the tolerance, the first divergence marked.
    static func precision(_ comparison: PrecisionRecord, modelName: String) -> String {
        let values = comparison.nodes
        let barWidth = values.count > 300 ? 3.0 : max(3, min(20, 900 / Double(max(values.count, 1))))
        let plotWidth = max(880, barWidth * Double(values.count))
        var figure = SVGFigure(width: left + plotWidth + right, height: panelHeight * 2 + 90)
        let errors = values.map { max($0.maxAbsError, 1e-12) }
        let low = -12.0, high = max(0, (errors.map { log10($0) }.max() ?? 0).rounded(.up))
        let height = panelHeight * 2
        func y(_ error: Double) -> Double { 12 + height - (log10(max(error, 1e-12)) - low) / (high - low) * height }
        for exponent in stride(from: low, through: high, by: 2) {
            let ty = y(pow(10, exponent))
            figure.line(left, ty, left + plotWidth, ty, stroke: "#e4e4e4")
            figure.text(left - 4, ty + 4, "1e\(Int(exponent))", anchor: "end", size: 10)
        }
        figure.text(14, 12 + height / 2, "largest absolute error", anchor: "middle", weight: "600", rotate: true)
        let divergence = comparison.firstDivergence?.node
        for (k, value) in values.enumerated() {
            let top = y(errors[k])
            figure.rect(left + Double(k) * barWidth, top, max(barWidth - 1, 1), 12 + height - top,
                        fill: value.withinTolerance ? "#59a14f" : "#e15759",
                        attributes: " class=\"error-bar\"", title: "\(value.name) (\(value.op)): \(Units.significant(value.maxAbsError))")
            if value.name == divergence {
                let x = left + (Double(k) + 0.5) * barWidth
                figure.line(x, 12, x, 12 + height, stroke: "#e15759", dash: true)
                figure.text(x + 4, 24, "first divergence: " + value.name, size: 11, weight: "600")
            }
        }
        let tolerance = y(comparison.atol)
        figure.line(left, tolerance, left + plotWidth, tolerance, stroke: "#333", dash: true)
        figure.text(left + plotWidth - 4, tolerance - 4, "atol \(Units.significant(comparison.atol))", anchor: "end", size: 10)
        figure.text(left + plotWidth / 2, 12 + height + 22, "\(values.count) compared values of \(modelName) in execution order",
                    anchor: "middle")
        figure.legend([("within tolerance", "#59a14f"), ("outside tolerance", "#e15759")], x: left, y: 12 + height + 44,
                          maxWidth: plotWidth)
        return figure.svg(id: "chart-precision", title: "Per-node error against the reference")
    }
}

/// One colour per op over every model of a report: the ops with the most
/// MACs (then the most nodes) get the palette, the rest share grey.
struct OpColors {
    private var colors: [String: String] = [:]

    init(_ models: [ReportModel]) {
        var macs: [String: Int] = [:], counts: [String: Int] = [:]
        for model in models {
            for row in model.rows {
                macs[row.op, default: 0] += row.macs
                counts[row.op, default: 0] += 1
            }
        }
        let ranked = macs.keys.sorted { (macs[$0]!, counts[$0]!, $1) > (macs[$1]!, counts[$1]!, $0) }
        for (op, color) in zip(ranked, Palette.colors) { colors[op] = color }
    }

    func color(_ op: String) -> String { colors[op] ?? Palette.other }

    /// Legend entries for the ops in `ops`, coloured ones first, then `other`.
    func legend(for ops: [String]) -> [(label: String, color: String)] {
        var seen = Set<String>(), entries: [(label: String, color: String)] = []
        var hasOther = false
        for op in ops where seen.insert(op).inserted {
            if let color = colors[op] { entries.append((op, color)) } else { hasOther = true }
        }
        entries.sort { Palette.colors.firstIndex(of: $0.color)! < Palette.colors.firstIndex(of: $1.color)! }
        return entries + (hasOther ? [("other", Palette.other)] : [])
    }
}
