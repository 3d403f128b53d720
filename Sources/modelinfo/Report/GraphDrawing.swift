import ModelInfo

/// What each drawn node shows: its fill (its share of the model's MACs, or
/// of the measured time with a profile) and whether it is the first divergence.
struct NodeLook {
    var fill: [Int: String] = [:]
    var divergent: Int?

    init(_ model: ReportModel) {
        let weight: (NodeReport) -> Double = model.profile == nil
            ? { Double($0.macs) } : { model.milliseconds[$0.index] ?? 0 }
        let largest = model.analysis.nodes.map(weight).max() ?? 0
        for node in model.analysis.nodes {
            fill[node.index] = Palette.heat(largest > 0 ? weight(node) / largest : 0)
        }
        if let name = model.precision?.firstDivergence?.node {
            divergent = model.analysis.nodes.first { $0.name == name }?.index
        }
    }
}

/// The page's graph data: every model's stages and nodes with their places,
/// as JSON inside the page. Written by hand, and `<` escaped, so that no
/// name in a model can end the script element that holds it.
enum GraphData {
    static func json(_ models: [ReportModel]) -> String {
        var out = "{\"models\":["
        for (m, model) in models.enumerated() {
            let graph = model.graph, look = NodeLook(model)
            if m > 0 { out += "," }
            out += "{\"name\":" + string(model.name) + ",\"open\":" + (graph.nodes.count <= GraphFigure.unfoldedNodes ? "true" : "false")
            out += ",\"w\":\(Markup.number(graph.width)),\"h\":\(Markup.number(graph.height)),\"stages\":["
            for (s, stage) in graph.stages.enumerated() {
                if s > 0 { out += "," }
                let b = stage.box
                out += "{\"k\":" + string(stage.key) + ",\"x\":\(Markup.number(b.x)),\"y\":\(Markup.number(b.y)),\"w\":\(Markup.number(b.width))"
                out += ",\"h\":\(Markup.number(b.height)),\"l\":\(stage.layer),\"uw\":\(Markup.number(stage.unfoldedWidth))"
                out += ",\"uh\":\(Markup.number(stage.unfoldedHeight)),\"r\":["
                for (r, route) in stage.routes.enumerated() {
                    if r > 0 { out += "," }
                    out += "[" + route.points.map { Markup.number($0.x) + "," + Markup.number($0.y) }.joined(separator: ",") + "]"
                }
                out += "]}"
            }
            out += "],\"edges\":[" + graph.stageEdges.map { "[\($0.from),\($0.to)]" }.joined(separator: ",") + "],\"nodes\":["
            for (k, drawn) in graph.nodes.enumerated() {
                let report = model.analysis.nodes[drawn.index]
                if k > 0 { out += "," }
                out += "{\"i\":\(drawn.index),\"s\":\(drawn.stage),\"x\":\(Markup.number(drawn.box.x)),\"y\":\(Markup.number(drawn.box.y))"
                out += ",\"w\":\(Markup.number(drawn.box.width)),\"op\":" + string(report.op) + ",\"sh\":" + string(GraphView.shapeLabel(report))
                // Numbers as the tables print them, so the script needs no formatter of its own.
                out += ",\"n\":" + string(report.name) + ",\"mac\":\"" + Units.scaled(report.macs) + "\",\"p\":\"" + Units.scaled(report.params)
                out += "\",\"f\":\"" + (look.fill[drawn.index] ?? "#fff") + "\""
                if let ms = model.milliseconds[drawn.index] { out += ",\"t\":" + Units.significant(ms) }
                if look.divergent == drawn.index { out += ",\"d\":1" }
                out += "}"
            }
            out += "]}"
        }
        return out + "]}"
    }

    /// A JSON string literal that is also safe inside a `<script>` element.
    static func string(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for c in text.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}

/// The graph as a standalone SVG: unfolded when it is small enough to read
/// on a page, otherwise its stages folded.
enum GraphFigure {
    /// Models with at most this many drawn nodes open unfolded, on the page too.
    static let unfoldedNodes = 400

    static func svg(_ model: ReportModel, index m: Int) -> String {
        let graph = model.graph, look = NodeLook(model)
        let unfolded: Set<Int> = graph.nodes.count <= unfoldedNodes ? Set(graph.stages.indices) : []
        let boxes = graph.placement(unfolded: unfolded)
        let width = (boxes.map { $0.x + $0.width }.max() ?? 0) + LayeredLayout.margin
        let height = (boxes.map { $0.y + $0.height }.max() ?? 0) + LayeredLayout.margin
        var figure = SVGFigure(width: max(width, 200), height: max(height, 60))
        for (a, b) in graph.stageEdges {
            figure.add(curve(from: (boxes[a].centerX, boxes[a].bottom), to: (boxes[b].centerX, boxes[b].y), stroke: "#9aa"))
        }
        for (s, stage) in graph.stages.enumerated() {
            let box = boxes[s]
            figure.rect(box.x, box.y, box.width, box.height, fill: unfolded.contains(s) ? "#f7f9fb" : "#e8eef4",
                        attributes: " stroke=\"#8a9bb0\" rx=\"6\"")
            figure.text(box.x + 8, box.y + 17, Units.shortened(stage.key, limit: Int(box.width / 6.6)), size: 11, weight: "600")
            guard unfolded.contains(s) else { continue }
            let dx = box.x + GraphView.padding, dy = box.y + GraphView.titleHeight
            for route in stage.routes {
                let points = route.points.map { "\(Markup.number($0.x + dx)),\(Markup.number($0.y + dy))" }.joined(separator: " ")
                figure.add("<polyline points=\"\(points)\" fill=\"none\" stroke=\"#9aa\"/>")
            }
            for member in stage.members {
                let drawn = graph.nodes[member], report = model.analysis.nodes[drawn.index]
                let b = drawn.box
                figure.rect(b.x + dx, b.y + dy, b.width, b.height, fill: look.fill[drawn.index] ?? "#fff",
                            attributes: " stroke=\"\(look.divergent == drawn.index ? "#e15759" : "#556")\" rx=\"3\"")
                figure.text(b.x + dx + b.width / 2, b.y + dy + 14, report.op, anchor: "middle", size: 11, weight: "600")
                figure.text(b.x + dx + b.width / 2, b.y + dy + 27, GraphView.shapeLabel(report), anchor: "middle", size: 9.5)
            }
        }
        return figure.svg(id: "graph-\(m)", title: "\(model.name): graph, nodes coloured by their share of "
                          + (model.profile == nil ? "MACs" : "measured time"))
    }

    /// An edge between stages: a vertical S-curve.
    static func curve(from a: (Double, Double), to b: (Double, Double), stroke: String) -> String {
        let mid = (a.1 + b.1) / 2
        return "<path d=\"M\(Markup.number(a.0)) \(Markup.number(a.1))C\(Markup.number(a.0)) \(Markup.number(mid)) \(Markup.number(b.0)) \(Markup.number(mid)) \(Markup.number(b.0)) \(Markup.number(b.1))\" fill=\"none\" stroke=\"\(stroke)\"/>"
    }
}
