import ModelInfo

/// The text form of a `ModelSummary`.
enum SummaryText {
    /// `usedShapes` maps an input to the shape the analysis used, where it
    /// differs from the declared one (`--batch`, `--input-shape`).
    static func render(_ s: ModelSummary, usedShapes: [String: String] = [:]) -> String {
        var out = ""
        func line(_ text: String = "") { out += text + "\n" }

        line("\(s.file)  " + (s.format == .zoo ? "built in memory by the zoo" : "\(s.format.rawValue), \(Units.bytes(s.fileBytes))"))
        var identity = ["IR version \(s.irVersion)"]
        let producer = [s.producerName, s.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        if !producer.isEmpty { identity.append("producer \(producer)") }
        if !s.domain.isEmpty { identity.append("domain \(s.domain)") }
        if s.modelVersion != 0 { identity.append("model version \(s.modelVersion)") }
        line("  " + identity.joined(separator: " · "))
        if !s.opsets.isEmpty {
            line("  opsets " + s.opsets.map { "\($0.domain) \($0.version)" }.joined(separator: ", "))
        }
        var size = ["\(Units.grouped(s.parameterCount)) parameters",
                    "\(s.initializerCount) initializers (\(Units.bytes(s.initializerBytes)))"]
        if s.functionCount > 0 { size.append("\(s.functionCount) functions") }
        line("  " + size.joined(separator: " · "))
        if let storage = s.storage { storageLines(storage).forEach { line($0) } }
        line()

        line("Inputs")
        table(s.inputs.map { input in
            [input.name, input.dtype ?? "?", shapeText(input)] + (usedShapes[input.name].map { ["used \($0)"] } ?? [])
        }, into: &out)
        line("Outputs")
        table(s.outputs.map { [$0.name, $0.dtype ?? "?", shapeText($0)] }, into: &out)
        line()

        var header = "Operators (\(s.nodeCount) node\(s.nodeCount == 1 ? "" : "s")"
        if s.subgraphCount > 0 { header += "; \(s.subgraphNodeCount) more in \(s.subgraphCount) subgraphs" }
        line(header + ")")
        table(s.opCounts.map { [$0.op, String($0.count)] }, into: &out, rightAlign: [1])

        if !s.metadata.isEmpty {
            line()
            line("Metadata")
            let keyWidth = s.metadata.keys.map(\.count).max() ?? 0
            let limit = max(20, ReportText.terminalWidth - 4 - keyWidth)
            table(s.metadata.sorted { $0.key < $1.key }.map { [$0.key, Units.oneLine($0.value, limit: limit)] }, into: &out)
        }
        return out
    }

    /// How a `.swm` file stores its tensors, and where it came from.
    static func storageLines(_ storage: ModelSummary.Storage) -> [String] {
        let encodings = storage.encodings.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        var stored = "  SWM \(storage.formatVersion) · tensors \(encodings)"
        if storage.compressedTensors > 0 { stored += ", \(storage.compressedTensors) compressed" }
        stored += " · \(Units.bytes(storage.storedBytes)) stored for \(Units.bytes(storage.decodedBytes))"
        var lines = [stored]
        if let source = storage.sourceName, !source.isEmpty {
            var from = "  converted from \(source)"
            if let sha = storage.sourceSHA256, !sha.isEmpty { from += " (sha256 \(sha.prefix(16))…)" }
            if let converter = storage.converter, !converter.isEmpty { from += " by \(converter)" }
            if let options = storage.conversionOptions, !options.isEmpty { from += " with \(options)" }
            lines.append(from)
        }
        return lines
    }

    private static func shapeText(_ value: ModelSummary.Value) -> String {
        guard value.shape != nil else { return value.dtype == "sequence" || value.dtype == "map" ? value.type : "rank unknown" }
        return ReportText.shapeText(value.shape)
    }

    /// Two-space-indented columns, padded to the widest cell.
    private static func table(_ rows: [[String]], into out: inout String, rightAlign: Set<Int> = []) {
        guard let columns = rows.map(\.count).max() else {
            out += "  (none)\n"
            return
        }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        for row in rows {
            let cells = row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAlign.contains(i) ? pad + cell : (i == row.count - 1 ? cell : cell + pad)
            }
            out += "  " + cells.joined(separator: "  ") + "\n"
        }
    }
}

/// Human-scaled numbers.
enum Units {
    /// `138,357,544`
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { result += "," }
            result.append(c)
        }
        return value < 0 ? "-" + result : result
    }

    /// `15.47 G`, `138.36 M`, `1.79 K`, `512`: two decimals in SI steps.
    static func scaled(_ value: Int) -> String {
        let units = ["", " K", " M", " G", " T", " P"]
        var scaled = Double(value.magnitude)
        var unit = 0
        while scaled >= 1000 && unit < units.count - 1 {
            scaled /= 1000
            unit += 1
        }
        let text = unit == 0 ? String(value.magnitude) : fixed(scaled, digits: 2) + units[unit]
        return value < 0 ? "-" + text : text
    }

    /// Four significant digits, e.g. `0.0001235`, `12.35`, `1.235e+09`.
    static func significant(_ value: Double) -> String {
        guard value.isFinite else { return String(value) }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e6 || magnitude < 1e-4 {
            var exponent = 0
            var mantissa = magnitude
            while mantissa >= 10 { mantissa /= 10; exponent += 1 }
            while mantissa < 1 { mantissa *= 10; exponent -= 1 }
            return (value < 0 ? "-" : "") + fixed(mantissa, digits: 3) + "e" + (exponent < 0 ? "-" : "+") + String(abs(exponent))
        }
        // Three significant digits: fewer decimals above 10, more below 0.1.
        var digits = 3
        var scale = magnitude
        while scale >= 10 && digits > 0 { scale /= 10; digits -= 1 }
        while scale < 0.1 { scale *= 10; digits += 1 }
        return fixed(value, digits: digits)
    }

    /// Long names are cut in the middle: whole path components where they
    /// can be (`/layer1/…/bn1/BatchNormalization`), keeping the first (the
    /// stage) and as much of the end, the most specific part, as fits;
    /// otherwise characters, a third from the start and the rest from the end.
    static func shortened(_ text: String, limit: Int) -> String {
        guard text.count > limit, limit >= 2 else { return text }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let headCount = parts.first?.isEmpty == true ? 2 : 1
        if parts.count > headCount + 1 {
            let head = parts.prefix(headCount).joined(separator: "/") + "/…"
            var tail = ""
            for part in parts.dropFirst(headCount).reversed() {
                let longer = "/" + part + tail
                guard head.count + longer.count <= limit else { break }
                tail = longer
            }
            if !tail.isEmpty { return head + tail }
        }
        let start = (limit - 1) / 3
        return String(text.prefix(start)) + "…" + String(text.suffix(limit - 1 - start))
    }

    /// `553.4 MB` (decimal units, as file sizes are usually quoted).
    static func bytes(_ value: Int) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB"]
        var scaled = Double(value)
        var unit = 0
        while scaled >= 1000 && unit < units.count - 1 {
            scaled /= 1000
            unit += 1
        }
        return unit == 0 ? "\(value) bytes" : "\(fixed(scaled, digits: 1)) \(units[unit])"
    }

    static func fixed(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = String(rounded)
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
        }
        return text
    }

    /// Newlines and tabs flattened, long text cut, so a table row stays one line.
    static func oneLine(_ text: String, limit: Int = 80) -> String {
        let flat = text.map { $0.isNewline || $0 == "\t" ? " " : $0 }
        return flat.count > limit ? String(flat.prefix(limit - 1)) + "…" : String(flat)
    }
}
