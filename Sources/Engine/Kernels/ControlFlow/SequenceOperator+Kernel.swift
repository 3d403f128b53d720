import ModelCore

/// The sequence operators: build a sequence, edit it, read it, and move
/// between a tensor and a sequence of its parts. Elements are never copied:
/// a sequence holds the same tensors as its inputs (tensors are never
/// written in place).
struct SequenceKernel: ValueKernel {
    enum Operation {
        case empty, construct, insert, at, erase, length, split, concat
    }

    let operation: Operation
    let schema: SequenceOperator

    init(_ schema: SequenceOperator, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
        operation = switch schema.op {
        case "SequenceEmpty": .empty
        case "SequenceConstruct": .construct
        case "SequenceInsert": .insert
        case "SequenceAt": .at
        case "SequenceErase": .erase
        case "SequenceLength": .length
        case "SplitToSequence": .split
        case "ConcatFromSequence": .concat
        default: throw setup.noKernel
        }
    }

    func run(values inputs: [EngineValue?], _ context: ExecutionContext) throws(ModelError) -> [EngineValue?] {
        switch operation {
        case .empty:
            return [.sequence(try EngineSequence(elementType: schema.elementType))]
        case .construct:
            var tensors: [EngineTensor] = []
            for k in inputs.indices { tensors.append(try requiredValue(inputs, k, "input \(k)").tensor("input \(k)")) }
            return [.sequence(try EngineSequence(elements: tensors, fallback: .float))]
        case .insert:
            let sequence = try requiredValue(inputs, 0, "input_sequence").sequence("input_sequence")
            let tensor = try requiredValue(inputs, 1, "tensor").tensor("tensor")
            let position = try Self.position(inputs, 2) ?? sequence.elements.count
            return [.sequence(try sequence.inserting(tensor, at: position))]
        case .at:
            let sequence = try requiredValue(inputs, 0, "input_sequence").sequence("input_sequence")
            let position = try Self.position(inputs, 1) ?? 0
            return [.tensor(sequence.elements[try sequence.position(position)])]
        case .erase:
            let sequence = try requiredValue(inputs, 0, "input_sequence").sequence("input_sequence")
            return [.sequence(try sequence.removing(at: try Self.position(inputs, 1) ?? -1))]
        case .length:
            let sequence = try requiredValue(inputs, 0, "input_sequence").sequence("input_sequence")
            return [.tensor(try ShapeKernels.int64Tensor([sequence.elements.count], shape: []))]
        case .split:
            return [.sequence(try split(inputs))]
        case .concat:
            return [.tensor(try concat(try requiredValue(inputs, 0, "input_sequence").sequence("input_sequence"), context))]
        }
    }

    /// The integer scalar `position` at input `index`, if given.
    static func position(_ inputs: [EngineValue?], _ index: Int) throws(ModelError) -> Int? {
        guard let value = optionalValue(inputs, index) else { return nil }
        return try ShapeKernels.scalarInteger(try value.tensor("position"), "position")
    }

    /// SplitToSequence: parts of length 1 (the axis dropped unless `keepdims`),
    /// parts of a scalar `split` length (the last one shorter), or of the
    /// lengths a 1-D `split` lists.
    func split(_ inputs: [EngineValue?]) throws(ModelError) -> EngineSequence {
        let data = try requiredValue(inputs, 0, "input").tensor("input")
        let a = try ShapeKernels.axis(schema.axis ?? 0, rank: data.shape.count)
        let length = data.shape[a]
        guard let splitValue = optionalValue(inputs, 1) else {
            var parts = try SplitKernel.cut(data, axis: a, sizes: Array(repeating: 1, count: length))
            if !schema.keepDims {
                var shape = data.shape
                shape.remove(at: a)
                parts = parts.map { $0.reshaped(shape) }
            }
            return try EngineSequence(elementType: data.dtype, parts)
        }
        let split = try splitValue.tensor("split")
        let given = try ShapeKernels.integers(split, "split")
        var sizes: [Int]
        if split.shape.isEmpty {
            guard let chunk = given.first, chunk > 0 else { throw ModelError(.invalidGraph, "split must be a positive length, it is \(given)") }
            sizes = Array(repeating: chunk, count: length / chunk)
            if length % chunk != 0 { sizes.append(length % chunk) }
        } else {
            sizes = given
        }
        guard SplitKernel.sizes(sizes, addUpTo: length) else {
            throw ModelError(.invalidGraph, "split lengths \(sizes) do not add up to the axis length \(length)")
        }
        return try EngineSequence(elementType: data.dtype, try SplitKernel.cut(data, axis: a, sizes: sizes))
    }

    /// ConcatFromSequence: the elements joined along `axis`, or stacked along a new one.
    func concat(_ sequence: EngineSequence, _ context: ExecutionContext) throws(ModelError) -> EngineTensor {
        guard !sequence.elements.isEmpty else { throw ModelError(.invalidGraph, "ConcatFromSequence of an empty sequence") }
        let axis = schema.axis ?? 0
        if schema.newAxis { return try ControlFlowKernels.stack(Array(sequence.elements), axis: axis) }
        let joined = try ConcatKernel(axis: axis).run(sequence.elements.map { $0 }, context)
        guard let first = joined.first, let tensor = first else { throw ModelError(.internal, "internal: Concat gave no output") }
        return tensor
    }
}

/// SequenceMap: runs the body once per position of the input sequences,
/// giving it that position's elements and the tensor inputs whole; each
/// body output is gathered into an output sequence.
struct SequenceMapKernel: ValueKernel {
    let body: ExecutionPlan
    let inputNames: [String]
    let captured: [String]
    let declaredOutputs: [ValueInfo]

    init(_ schema: SequenceMap, _ setup: KernelSetup) throws(ModelError) {
        body = try ControlFlowKernels.subgraph(setup, "body")
        inputNames = setup.node.inputs
        captured = setup.capturedNames
        declaredOutputs = schema.declaredBodyOutputs
        guard body.inputNames.count == inputNames.count else {
            throw ModelError(.invalidGraph, "the body takes \(body.inputNames.count) inputs for the node's \(inputNames.count)")
        }
    }

    func run(values inputs: [EngineValue?], _ context: ExecutionContext) throws(ModelError) -> [EngineValue?] {
        let own = try (0..<inputNames.count).map { k throws(ModelError) in try requiredValue(inputs, k, "input \(k)") }
        let length = try own[0].sequence("input_sequence").elements.count
        for case .sequence(let other) in own where other.elements.count != length {
            throw ModelError(.invalidGraph, "the input sequences differ in length: \(length) and \(other.elements.count)")
        }
        let outer = ControlFlowKernels.outerValues(inputs, names: inputNames, captured: captured)
        var gathered = Array(repeating: [EngineTensor](), count: body.outputNames.count)
        for position in 0..<length {
            var feeds: [String: EngineValue] = [:]
            for (name, value) in zip(body.inputNames, own) {
                if case .sequence(let sequence) = value { feeds[name] = .tensor(sequence.elements[position]) } else { feeds[name] = value }
            }
            let results = try body.run(values: feeds, context: context, outer: outer)
            for (k, name) in body.outputNames.enumerated() {
                gathered[k].append(try ControlFlowKernels.result(results, name).tensor("body output '\(name)'"))
            }
        }
        return try gathered.enumerated().map { k, elements throws(ModelError) -> EngineValue? in
            var fallback = DType.float
            if k < declaredOutputs.count, case .tensor(let type, _)? = declaredOutputs[k].type, type != .undefined { fallback = type }
            return EngineValue.sequence(try EngineSequence(elements: elements, fallback: fallback))
        }
    }
}

// MARK: - The schemas' kernels

extension SequenceOperator: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try SequenceKernel(self, setup) }
}

extension SequenceMap: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try SequenceMapKernel(self, setup) }
}
