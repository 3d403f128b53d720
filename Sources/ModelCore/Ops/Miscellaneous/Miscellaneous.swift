/// The long tail of operators: quantisation, quantised and deformable
/// convolution, detection, sampling grids, signal processing, random
/// generators, strings, training optimisers and the `ai.onnx.ml` operators
/// that the node suite exercises.
///
/// Counting rule (docs/COUNTING.md), as for the other families: products
/// count as MACs (integer products too, two FLOPs per MAC like floating
/// ones, so that quantised and float models compare), other arithmetic one
/// FLOP per operation or transcendental function, data movement and string
/// work zero, and `nil` (uncounted) where the work depends on the data.
public enum Miscellaneous {
    /// The element type an attribute names by its `TensorProto.DataType` code.
    static func dtype(_ name: String, default fallback: DType?, _ reader: AttributeReader) throws(ModelError) -> DType? {
        guard let code = try reader.int(name) else { return fallback }
        guard let raw = Int32(exactly: code), raw != 0, DType(rawValue: raw).isKnown else {
            throw reader.error("attribute '\(name)' names unknown element type \(code)")
        }
        return DType(rawValue: raw)
    }

    /// The single integer a scalar (or one-element) input holds, when known.
    static func scalar(_ fact: ValueFact?) -> Dim? {
        guard let value = fact?.value, value.count == 1 else { return nil }
        return value.integers[0]
    }

    /// The size a scalar input gives; throws when it is a negative number.
    static func size(_ fact: ValueFact?, _ what: String, _ reader: AttributeReader) throws(ModelError) -> Dim {
        let dim = scalar(fact) ?? .unknown
        if let v = dim.value, v < 0 { throw reader.error("\(what) is \(v)") }
        return dim
    }

    /// A copy of `node` as `opType` with only the inputs at `indices` (omitted ones stay empty), for delegating to another schema.
    static func delegate(_ node: Node, as opType: String, inputs indices: [Int]) -> Node {
        var copy = node
        copy.opType = opType
        copy.domain = ""
        copy.inputs = indices.map { $0 < node.inputs.count ? node.inputs[$0] : "" }
        while copy.inputs.last?.isEmpty == true { copy.inputs.removeLast() }
        return copy
    }

    /// `base` with `extra` FLOPs added, or `nil` on overflow.
    static func adding(_ extra: Int?, to base: OpCost?) -> OpCost? {
        guard let base, let extra, extra >= 0 else { return nil }
        let (flops, overflow) = base.flops.addingReportingOverflow(extra)
        return overflow ? nil : OpCost(macs: base.macs, flops: flops)
    }

    /// FLOPs of one FFT of length n: the usual 5 · n · ⌈log₂ n⌉ for complex data.
    static func fftFLOPs(_ n: Int) -> Int? {
        guard n > 1 else { return 0 }
        let log2 = Int.bitWidth - (n - 1).leadingZeroBitCount
        return Count.product(5, n, log2)
    }
}
