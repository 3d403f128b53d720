/// `Einsum`: a sum of products over the indices an equation names.
public struct Einsum: OpSchema {
    /// Index letters of each operand; `.` stands for the dimensions an ellipsis covers.
    public let operands: [[Character]]
    /// Output letters, or `nil` for the implicit form.
    public let explicitOutput: [Character]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        self.reader = reader
        let equation = try reader.string("equation", default: "").filter { !$0.isWhitespace }
        let sides = equation.split(separator: "->", omittingEmptySubsequences: false)
        guard !equation.isEmpty, sides.count <= 2 else { throw reader.error("invalid einsum equation '\(equation)'") }
        var parsed: [[Character]] = []
        for term in sides[0].split(separator: ",", omittingEmptySubsequences: false) {
            parsed.append(try Self.letters(term, reader: reader))
        }
        operands = parsed
        explicitOutput = sides.count == 2 ? try Self.letters(sides[1], reader: reader) : nil
        guard node.inputs.count == parsed.count else {
            throw reader.error("the equation names \(parsed.count) operands but the node has \(node.inputs.count) inputs")
        }
    }

    /// The index letters of one term, with an ellipsis as `.`.
    private static func letters(_ term: Substring, reader: AttributeReader) throws(ModelError) -> [Character] {
        let text = term.replacing("...", with: ".")
        guard text.allSatisfy({ ($0.isASCII && $0.isLetter) || $0 == "." }), text.filter({ $0 == "." }).count <= 1 else {
            throw reader.error("invalid einsum term '\(term)'")
        }
        return Array(text)
    }

    /// Size of every index letter, the ellipsis dims, and the output letters.
    func resolve(_ inputs: [ValueFact?]) throws(ModelError) -> (sizes: [Character: Dim], ellipsis: [Dim], output: [Character])? {
        var sizes: [Character: Dim] = [:]
        var ellipsis: [Dim] = []
        for (i, letters) in operands.enumerated() {
            guard let shape = inputs[input: i]?.shape else { return nil }
            let named = letters.filter { $0 != "." }.count
            guard letters.contains(".") ? shape.rank >= named : shape.rank == named else {
                throw reader.error("operand \(i) has rank \(shape.rank) but its term has \(named) indices")
            }
            var position = 0
            for letter in letters {
                if letter == "." {
                    let span = shape.rank - named
                    let dims = Array(shape.dims[position..<(position + span)])
                    ellipsis = try Broadcast.shape([Shape(ellipsis), Shape(dims)], node: reader)?.dims ?? []
                    position += span
                } else {
                    let dim = shape.dims[position]
                    if let known = sizes[letter], known != dim, known != .known(1), dim != .known(1),
                       known.value != nil, dim.value != nil {
                        throw reader.error("index '\(letter)' has sizes \(known) and \(dim)")
                    }
                    if sizes[letter] == nil || sizes[letter] == .known(1) { sizes[letter] = dim }
                    position += 1
                }
            }
        }
        let output: [Character]
        if let explicitOutput {
            output = explicitOutput
        } else {
            // Implicit form: letters used exactly once, in alphabetical order, after the ellipsis.
            let all = operands.flatMap { $0 }.filter { $0 != "." }
            let once = Set(all.filter { letter in all.filter { $0 == letter }.count == 1 })
            output = (operands.contains { $0.contains(".") } ? ["."] : []) + once.sorted()
        }
        return (sizes, ellipsis, output)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs.lazy.compactMap { $0?.dtype }.first
        guard let (sizes, ellipsis, output) = try resolve(inputs) else { return [ValueFact(dtype: dtype, shape: nil)] }
        var dims: [Dim] = []
        for letter in output {
            if letter == "." { dims += ellipsis } else {
                guard let size = sizes[letter] else { throw reader.error("output index '\(letter)' appears in no operand") }
                dims.append(size)
            }
        }
        return [ValueFact(dtype: dtype, shape: Shape(dims))]
    }

    /// Every combination of all indices is one term: a product of the
    /// operands (operands − 1 multiplies) accumulated into its output element.
    /// With two operands that is one MAC per term, as for MatMul.
    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (sizes, ellipsis, _) = try? resolve(inputs) else { return nil }
        var terms = 1
        for dim in Array(sizes.values) + ellipsis {
            guard let v = dim.value, let p = Count.product(terms, v) else { return nil }
            terms = p
        }
        if operands.count == 1 { return .elementwise(terms, perElement: 1) }
        guard let macs = Count.product(terms, operands.count - 1) else { return nil }
        return .multiplyAccumulate(macs)
    }
}
