import ModelCore

/// A Python literal as numpy writes it in a `.npy` header, with the byte
/// offset where it starts so that an error can point at it.
struct PythonLiteral {
    /// The literal kinds a header can hold (`ast.literal_eval`'s subset that numpy uses).
    indirect enum Value {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        case none
        case tuple([PythonLiteral])
        case list([PythonLiteral])
        case dictionary([(key: PythonLiteral, value: PythonLiteral)])
    }

    let value: Value
    /// Offset of the literal's first byte in the file.
    let offset: Int

    /// Parses `text`, which must hold exactly one literal surrounded by whitespace.
    /// - Parameters:
    ///   - base: offset of `text` in the file, for error positions.
    ///   - utf8: strings are UTF-8 (`.npy` 3.0) rather than Latin-1 (1.0, 2.0).
    static func parse(_ text: UnsafeRawBufferPointer, base: Int, utf8: Bool) throws(ModelError) -> PythonLiteral {
        var parser = LiteralParser(text: text, base: base, utf8: utf8)
        parser.skipWhitespace()
        let literal = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.position < text.count {
            throw parser.error("unexpected \(parser.describeNext()) after the header's dictionary")
        }
        return literal
    }

    /// A short name of the kind, for error messages.
    var kindName: String {
        switch value {
        case .string: return "a string"
        case .integer: return "an integer"
        case .boolean: return "a boolean"
        case .none: return "None"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .dictionary: return "a dictionary"
        }
    }
}

/// Recursive descent over the header bytes. Depth is bounded, so a header of
/// nothing but `(((((` cannot exhaust the stack.
private struct LiteralParser {
    let text: UnsafeRawBufferPointer
    let base: Int
    let utf8: Bool
    var position = 0

    /// Far deeper than any header numpy writes (a dictionary holding a tuple).
    static let maximumDepth = 32

    init(text: UnsafeRawBufferPointer, base: Int, utf8: Bool) {
        self.text = text
        self.base = base
        self.utf8 = utf8
    }

    func error(_ message: String, at offset: Int? = nil) -> ModelError {
        ModelError(.malformed, "bad .npy header: " + message, byteOffset: base + (offset ?? position))
    }

    var next: UInt8? { position < text.count ? text[position] : nil }

    func describeNext() -> String {
        guard let byte = next else { return "end of header" }
        if (0x21...0x7E).contains(byte) { return "\"\(Character(Unicode.Scalar(byte)))\"" }
        return "byte 0x" + String(byte, radix: 16)
    }

    mutating func skipWhitespace() {
        while let byte = next, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C {
            position += 1
        }
    }

    mutating func expect(_ byte: UInt8) throws(ModelError) {
        guard next == byte else {
            throw error("expected \"\(Character(Unicode.Scalar(byte)))\" but found \(describeNext())")
        }
        position += 1
    }

    mutating func value(depth: Int) throws(ModelError) -> PythonLiteral {
        guard depth < Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) levels deep") }
        let start = base + position
        // NUL matches no case, so the end of the text falls to `default`.
        switch next ?? 0 {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return PythonLiteral(value: .string(try string()), offset: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return PythonLiteral(value: .integer(try integer()), offset: start)
        case UInt8(ascii: "("):
            position += 1
            let (elements, sawComma) = try sequence(until: UInt8(ascii: ")"), depth: depth)
            // `(3)` is just 3 in Python; only a comma (or nothing at all) makes a tuple.
            if elements.count == 1 && !sawComma { return elements[0] }
            return PythonLiteral(value: .tuple(elements), offset: start)
        case UInt8(ascii: "["):
            position += 1
            return PythonLiteral(value: .list(try sequence(until: UInt8(ascii: "]"), depth: depth).elements), offset: start)
        case UInt8(ascii: "{"):
            position += 1
            return PythonLiteral(value: .dictionary(try dictionary(depth: depth)), offset: start)
        case let byte where byte == UInt8(ascii: "_") || (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z"):
            return PythonLiteral(value: try name(), offset: start)
        default:
            throw error("expected a value but found \(describeNext())")
        }
    }

    /// Comma-separated values up to `close`, with an optional trailing comma.
    mutating func sequence(until close: UInt8, depth: Int) throws(ModelError) -> (elements: [PythonLiteral], sawComma: Bool) {
        var elements: [PythonLiteral] = []
        var sawComma = false
        skipWhitespace()
        while next != close {
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard next == UInt8(ascii: ",") else { break }
            position += 1
            sawComma = true
            skipWhitespace()
        }
        try expect(close)
        return (elements, sawComma)
    }

    mutating func dictionary(depth: Int) throws(ModelError) -> [(key: PythonLiteral, value: PythonLiteral)] {
        var entries: [(key: PythonLiteral, value: PythonLiteral)] = []
        skipWhitespace()
        while next != UInt8(ascii: "}") {
            let key = try value(depth: depth + 1)
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            entries.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            guard next == UInt8(ascii: ",") else { break }
            position += 1
            skipWhitespace()
        }
        try expect(UInt8(ascii: "}"))
        return entries
    }

    /// A quoted string with the escapes `repr` can produce for a dtype name.
    mutating func string() throws(ModelError) -> String {
        let start = position
        guard let quote = next else { throw error("expected a string") }
        position += 1
        var bytes: [UInt8] = []
        while true {
            guard let byte = next else { throw error("unterminated string", at: start) }
            position += 1
            if byte == quote { break }
            if byte == 0x0A { throw error("unterminated string", at: start) }
            if byte == UInt8(ascii: "\\") {
                guard let escaped = next, escaped == UInt8(ascii: "\\") || escaped == UInt8(ascii: "'") || escaped == UInt8(ascii: "\"") else {
                    throw error("unsupported escape sequence in a string", at: position - 1)
                }
                position += 1
                bytes.append(escaped)
            } else {
                bytes.append(byte)
            }
        }
        if utf8 {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw error("string is not valid UTF-8", at: start)
            }
            return text
        }
        // Latin-1: every byte is the code point of the same value.
        var text = ""
        text.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return text
    }

    /// A decimal integer that fits in `Int`.
    mutating func integer() throws(ModelError) -> Int {
        let start = position
        let negative = next == UInt8(ascii: "-")
        if negative { position += 1 }
        var magnitude = 0
        var digits = 0
        while let byte = next, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            guard let shifted = Checked.multiply(magnitude, 10), let sum = Checked.add(shifted, Int(byte - UInt8(ascii: "0"))) else {
                throw error("integer too large", at: start)
            }
            magnitude = sum
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw error("expected digits after '-'", at: start) }
        return negative ? -magnitude : magnitude
    }

    /// `True`, `False` or `None`; any other name is not a literal.
    mutating func name() throws(ModelError) -> PythonLiteral.Value {
        let start = position
        while let byte = next, byte == UInt8(ascii: "_") || (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) {
            position += 1
        }
        let word = String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<position]), as: UTF8.self)
        switch word {
        case "True": return .boolean(true)
        case "False": return .boolean(false)
        case "None": return .none
        default: throw error("unexpected name '\(word.prefix(40))'", at: start)
        }
    }
}
