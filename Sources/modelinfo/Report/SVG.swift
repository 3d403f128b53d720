/// Text for HTML and SVG: escaping and compact numbers.
enum Markup {
    /// `text` safe inside an element or a quoted attribute: every name in a
    /// model is untrusted, and one may hold `<script>` or a quote.
    static func escaped(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A coordinate to one decimal, without a trailing `.0`: SVG files of
    /// thousands of bars stay small.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let tenths = Int((value * 10).rounded())
        let whole = String(tenths / 10), fraction = abs(tenths % 10)
        if fraction == 0 { return whole }
        return (tenths < 0 && tenths > -10 ? "-" : "") + whole + "." + String(fraction)
    }
}

/// Colours that tell categories apart (ops, stages, models) in every chart.
enum Palette {
    static let colors = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]
    static let other = "#bab0ac"

    /// The colour for a node's or group's share of the total: pale for
    /// little, deep red for the most; the square root spreads small shares.
    static func heat(_ share: Double) -> String {
        let t = max(0, min(1, share.squareRoot()))
        let r = Int(255 - 40 * t), g = Int(247 - 200 * t), b = Int(236 - 206 * t)
        return "#" + [r, g, b].map { value in
            let hex = String(value, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }
}

/// A standalone SVG figure written piece by piece: the same text goes inline
/// into the page and into `--svg DIR`.
struct SVGFigure {
    private(set) var body = ""
    let width: Double
    let height: Double

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func add(_ text: String) { body += text }

    /// A rectangle; `title` becomes its tooltip (escaped here).
    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, attributes: String = "", title: String? = nil) {
        body += "<rect x=\"\(Markup.number(x))\" y=\"\(Markup.number(y))\" width=\"\(Markup.number(w))\" height=\"\(Markup.number(h))\" fill=\"\(fill)\"\(attributes)"
        body += title.map { "><title>" + Markup.escaped($0) + "</title></rect>" } ?? "/>"
    }

    mutating func text(_ x: Double, _ y: Double, _ content: String, anchor: String = "start", size: Double = 11,
                       weight: String? = nil, rotate: Bool = false) {
        let transform = rotate ? " transform=\"rotate(-90 \(Markup.number(x)) \(Markup.number(y)))\"" : ""
        body += "<text x=\"\(Markup.number(x))\" y=\"\(Markup.number(y))\" font-size=\"\(Markup.number(size))\" text-anchor=\"\(anchor)\""
            + (weight.map { " font-weight=\"\($0)\"" } ?? "") + transform + ">" + Markup.escaped(content) + "</text>"
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#888", dash: Bool = false) {
        body += "<line x1=\"\(Markup.number(x1))\" y1=\"\(Markup.number(y1))\" x2=\"\(Markup.number(x2))\" y2=\"\(Markup.number(y2))\" stroke=\"\(stroke)\""
            + (dash ? " stroke-dasharray=\"4 3\"" : "") + "/>"
    }

    /// Where each legend entry starts, relative to the legend's first, in
    /// rows no wider than `maxWidth`; and the height of the rows.
    static func legendLayout(_ labels: [String], maxWidth: Double) -> (places: [(x: Double, y: Double)], height: Double) {
        var x = 0.0, y = 0.0
        var places: [(x: Double, y: Double)] = []
        for label in labels {
            let w = 18 + Double(label.count) * 6.2 + 14
            if x + w > maxWidth && x > 0 {
                x = 0
                y += 16
            }
            places.append((x, y))
            x += w
        }
        return (places, labels.isEmpty ? 0 : y + 16)
    }

    /// A legend of coloured squares and labels, in rows from (x, y).
    mutating func legend(_ entries: [(label: String, color: String)], x: Double, y: Double, maxWidth: Double) {
        let layout = Self.legendLayout(entries.map(\.label), maxWidth: maxWidth)
        for (entry, place) in zip(entries, layout.places) {
            rect(x + place.x, y + place.y - 9, 10, 10, fill: entry.color)
            text(x + place.x + 14, y + place.y, entry.label)
        }
    }

    /// The finished figure; `id` and `title` make it addressable in the page
    /// and say what it shows in a standalone file.
    func svg(id: String, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"\(Markup.escaped(id))\" viewBox=\"0 0 \(Markup.number(width)) \(Markup.number(height))\" width=\"\(Markup.number(width))\" height=\"\(Markup.number(height))\" font-family=\"system-ui, sans-serif\" role=\"img\"><title>\(Markup.escaped(title))</title>"
            + "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>" + body + "</svg>"
    }
}

/// A value axis: round steps (1, 2 or 5 × 10ⁿ) from zero past the largest value.
struct ValueAxis {
    let maximum: Double
    let step: Double

    init(largest: Double) {
        let top = largest > 0 ? largest : 1
        var step = 1.0
        while step * 10 <= top / 4 { step *= 10 }
        while step > top / 2 { step /= 10 }
        if step * 5 <= top / 2 { step *= 5 } else if step * 2 <= top / 2 { step *= 2 }
        self.step = step
        maximum = (top / step).rounded(.up) * step
    }

    var ticks: [Double] { stride(from: 0, through: maximum + step / 2, by: step).map { $0 } }

    /// Draws the axis on the left of a panel from `top` to `top + height`, with `title` turned along it.
    func draw(into figure: inout SVGFigure, left: Double, top: Double, height: Double, right: Double, title: String,
              label: (Double) -> String) {
        for tick in ticks {
            let y = top + height - tick / maximum * height
            figure.line(left, y, right, y, stroke: tick == 0 ? "#666" : "#e4e4e4")
            figure.text(left - 4, y + 4, label(tick), anchor: "end", size: 10)
        }
        figure.text(14, top + height / 2, title, anchor: "middle", size: 11, weight: "600", rotate: true)
    }
}
