import ModelCore

/// Kernels that run subgraphs: If, Loop and Scan. A node with subgraphs
/// receives, after its own inputs, the enclosing-scope values its subgraphs
/// read (`KernelSetup.capturedNames`); the kernel hands them, and its own
/// inputs, to the subgraph plans by name.
enum ControlFlowKernels {

    /// The plan of graph attribute `name`.
    static func subgraph(_ setup: KernelSetup, _ name: String) throws(ModelError) -> ExecutionPlan {
        guard let plan = setup.subgraphs[name] else { throw ModelError(.invalidGraph, "\(setup.node.opType) needs a '\(name)' graph") }
        return plan
    }

    /// The values a subgraph may read from the enclosing scope: the node's
    /// own inputs (a subgraph may name them directly) and the captured values after them.
    static func outerValues<Value>(_ inputs: [Value?], names: [String], captured: [String]) -> [String: Value] {
        var values: [String: Value] = [:]
        for (name, value) in zip(names, inputs) where !name.isEmpty {
            if let value { values[name] = value }
        }
        for (name, value) in zip(captured, inputs.dropFirst(names.count)) {
            if let value { values[name] = value }
        }
        return values
    }

    /// Whether a condition tensor holding one element is true.
    static func condition(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> Bool {
        let values = try ElementNumbers.doubles(tensor)
        guard values.count == 1 else { throw ModelError(.invalidGraph, "\(what) must hold one element, it holds \(values.count)") }
        return values[0] != 0
    }

    /// A subgraph result by name.
    static func result<Value>(_ results: [String: Value], _ name: String) throws(ModelError) -> Value {
        guard let value = results[name] else { throw ModelError(.invalidGraph, "the subgraph did not produce '\(name)'") }
        return value
    }

    /// Tensors of one shape and type stacked along a new axis `axis`.
    static func stack(_ parts: [EngineTensor], axis: Int) throws(ModelError) -> EngineTensor {
        guard let first = parts.first else { throw ModelError(.internal, "internal: nothing to stack") }
        for part in parts where part.shape != first.shape || part.dtype != first.dtype {
            throw ModelError(.invalidGraph, "per-iteration outputs differ: \(first.dtype) \(first.shape) and \(part.dtype) \(part.shape)")
        }
        let a = try ShapeKernels.axis(axis, rank: first.shape.count + 1)
        var shape = first.shape
        shape.insert(parts.count, at: a)
        var output = try ElementOutput(dtype: first.dtype, shape: shape)
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[a...].reduce(1, *)
        for (t, part) in parts.enumerated() {
            for o in 0..<outer { output.copy(from: part, o * inner, to: (o * parts.count + t) * inner, count: inner) }
        }
        return output.tensor
    }

    /// Slice `index` of `tensor` along `axis`, without that axis.
    static func slice(_ tensor: EngineTensor, axis: Int, index: Int, context: ExecutionContext) throws(ModelError) -> EngineTensor {
        let strides = Shape.strides(tensor.shape)
        var dims = tensor.shape
        dims[axis] = 1
        var shape = tensor.shape
        shape.remove(at: axis)
        return try ShapeKernels.tableCopy(tensor, dims: dims, shape: shape, context: context) { k in
            k == axis ? [index * strides[axis]] : ShapeKernels.wholeAxis(dims[k], stride: strides[k])
        }
    }

    /// An empty stack of a subgraph output that never ran, shaped from its declared type where known.
    static func emptyStack(_ declared: ValueInfo?) throws(ModelError) -> EngineTensor {
        var dtype = DType.float, dims: [Int] = []
        if case .tensor(let type, let shape)? = declared?.type {
            if type != .undefined { dtype = type }
            dims = shape?.values ?? []
        }
        return try ElementOutput(dtype: dtype, shape: [0] + dims).tensor
    }
}
