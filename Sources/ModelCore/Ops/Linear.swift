/// `Gemm`: Y = alpha · A' · B' + beta · C, with A' and B' optionally transposed.
public struct Gemm: OpSchema {
    public let transA: Bool
    public let transB: Bool
    public let alpha: Float
    public let beta: Float
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        alpha = try reader.float("alpha", default: 1)
        beta = try reader.float("beta", default: 1)
        transA = try reader.int("transA", default: 0) != 0
        transB = try reader.int("transB", default: 0) != 0
        try reader.expectInputs(2...3)
    }

    /// (M, K, N) from the shapes of A and B.
    func dims(_ inputs: [ValueFact?]) throws(ModelError) -> (m: Dim, k: Dim, n: Dim)? {
        guard let a = inputs[input: 0]?.shape, let b = inputs[input: 1]?.shape else { return nil }
        guard a.rank == 2, b.rank == 2 else { throw reader.error("Gemm needs 2-D inputs, got ranks \(a.rank) and \(b.rank)") }
        let m = transA ? a.dims[1] : a.dims[0], k = transA ? a.dims[0] : a.dims[1]
        let kb = transB ? b.dims[1] : b.dims[0], n = transB ? b.dims[0] : b.dims[1]
        if let x = k.value, let y = kb.value, x != y { throw reader.error("inner dimensions \(x) and \(y) differ") }
        return (m, k.value == nil ? kb : k, n)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs[input: 0]?.dtype ?? inputs[input: 1]?.dtype
        guard let (m, _, n) = try dims(inputs) else { return [ValueFact(dtype: dtype, shape: nil)] }
        return [ValueFact(dtype: dtype, shape: Shape([m, n]))]
    }

    /// MACs = M · K · N; adding C costs one FLOP per output element.
    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (m, k, n) = try? dims(inputs), let m = m.value, let k = k.value, let n = n.value,
              let macs = Count.product(m, k, n) else { return nil }
        return .multiplyAccumulate(macs, plus: inputs[input: 2] != nil ? Count.product(m, n) ?? 0 : 0)
    }
}

/// `MatMul`: NumPy matrix product with broadcast batch dimensions.
public struct MatMul: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(2...2)
    }

    /// Output shape and the contracted size K.
    func product(_ inputs: [ValueFact?]) throws(ModelError) -> (shape: Shape, k: Dim)? {
        guard let a = inputs[input: 0]?.shape, let b = inputs[input: 1]?.shape else { return nil }
        guard a.rank >= 1, b.rank >= 1 else { throw reader.error("MatMul inputs must have rank 1 or more") }
        // A 1-D operand is a row (left) or column (right) vector that the result drops.
        let left = a.rank == 1 ? [Dim.known(1)] + a.dims : a.dims
        let right = b.rank == 1 ? b.dims + [Dim.known(1)] : b.dims
        let k = left[left.count - 1], kb = right[right.count - 2]
        if let x = k.value, let y = kb.value, x != y { throw reader.error("inner dimensions \(x) and \(y) differ") }
        let batch = try Broadcast.shape([Shape(Array(left.dropLast(2))), Shape(Array(right.dropLast(2)))], node: reader)
        var dims = (batch?.dims ?? [])
        if a.rank > 1 { dims.append(left[left.count - 2]) }
        if b.rank > 1 { dims.append(right[right.count - 1]) }
        return (Shape(dims), k.value == nil ? kb : k)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs[input: 0]?.dtype ?? inputs[input: 1]?.dtype
        guard let (shape, _) = try product(inputs) else { return [ValueFact(dtype: dtype, shape: nil)] }
        return [ValueFact(dtype: dtype, shape: shape)]
    }

    /// MACs = (output elements) · K.
    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (shape, k) = try? product(inputs), let count = shape.elementCount, let k = k.value,
              let macs = Count.product(count, k) else { return nil }
        return .multiplyAccumulate(macs)
    }
}

/// `Einsum`: a sum of products over the indices an equation names.
public struct Einsum: OpSchema {
    /// Index letters of each operand; `.` stands for the dimensions an ellipsis covers.
    let operands: [[Character]]
    /// Output letters, or `nil` for the implicit form.
    let explicitOutput: [Character]?
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
        guard text.allSatisfy({ $0.isLetter || $0 == "." }), text.filter({ $0 == "." }).count <= 1 else {
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
