/// `MaxUnpool`: scatters pooled values back to their positions in a zero tensor.
///
/// The output is `output_shape` when given, else (in − 1) · stride + kernel −
/// pads per spatial axis. A copy: zero FLOPs.
public struct MaxUnpool: OpSchema {
    /// `kernel_shape`.
    public let kernel: [Int]
    /// `strides` (default 1).
    public let strides: [Int]
    /// `pads`: begin pads for every spatial axis, then end pads.
    public let pads: [Int]
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let kernel = try reader.ints("kernel_shape"), !kernel.isEmpty, kernel.allSatisfy({ $0 > 0 }) else {
            throw reader.error("kernel_shape must list positive sizes")
        }
        self.kernel = kernel
        strides = try reader.ints("strides") ?? Array(repeating: 1, count: kernel.count)
        pads = try reader.ints("pads") ?? Array(repeating: 0, count: 2 * kernel.count)
        guard strides.count == kernel.count, pads.count == 2 * kernel.count,
              strides.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 }) else {
            throw reader.error("strides and pads do not match the kernel's \(kernel.count) axes")
        }
        try reader.expectInputs(2...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let given = inputs[input: 2]?.value?.integers {
            if let rank = x?.shape?.rank, rank != given.count {
                throw reader.error("output_shape has \(given.count) dimensions, X \(rank)")
            }
            guard given.allSatisfy({ ($0.value ?? 0) >= 0 }) else { throw reader.error("output_shape has a negative dimension") }
            return [ValueFact(dtype: x?.dtype, shape: Shape(given))]
        }
        guard let s = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        guard s.rank == kernel.count + 2 else { throw reader.error("X has rank \(s.rank), the kernel \(kernel.count) axes") }
        let n = kernel.count
        let spatial = (0..<n).map { i -> Dim in
            guard let size = s.dims[2 + i].value else { return .unknown }
            let (scaled, o1) = (size - 1).multipliedReportingOverflow(by: strides[i])
            let (extended, o2) = scaled.addingReportingOverflow(kernel[i])
            let (trimmed, o3) = extended.subtractingReportingOverflow(pads[i])
            let (out, o4) = trimmed.subtractingReportingOverflow(pads[i + n])
            return o1 || o2 || o3 || o4 || out < 0 ? .unknown : .known(out)
        }
        // An explicit output_shape that is not yet known leaves the spatial sizes open.
        let open = inputs[input: 2] != nil
        return [ValueFact(dtype: x?.dtype, shape: Shape(Array(s.dims.prefix(2)) + (open ? spatial.map { _ in .unknown } : spatial)))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// The values and indices are data.
    public func holdsParameters(input index: Int) -> Bool { false }
}
