#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Constant: its value, built once when the plan is made, from whichever
/// of `value`, `sparse_value`, `value_float(s)`, `value_int(s)` or `value_string(s)` the node has.
struct ConstantKernel: Kernel {
    let value: EngineTensor

    init(_ schema: Constant) throws(ModelError) {
        switch schema.value {
        case .tensor(let tensor): value = try EngineTensor(tensor)
        case .sparse(let sparse): value = try Self.dense(sparse)
        case .floats(let floats, let scalar): value = try EngineTensor(floats: floats, shape: scalar ? [] : [floats.count])
        case .ints(let ints, let scalar): value = try ShapeKernels.int64Tensor(ints, shape: scalar ? [] : [ints.count])
        case .strings(let strings, let scalar): value = EngineTensor(strings: strings, shape: scalar ? [] : [strings.count])
        }
    }

    /// The dense form of a sparse tensor: zeros with the values at their
    /// indices (flat `[NNZ]` or coordinates `[NNZ, rank]`).
    static func dense(_ sparse: SparseTensor) throws(ModelError) -> EngineTensor {
        let dims = sparse.dims.map { Int(clamping: $0) }
        let values = try EngineTensor(sparse.values)
        let indices = try ShapeKernels.integers(try EngineTensor(sparse.indices), "sparse indices")
        var output = try ElementOutput(dtype: values.dtype, shape: dims)
        output.fill(try FillElement(zeroOf: values.dtype), at: 0, count: output.count)
        let strides = Shape.strides(dims)
        let coordinates = indices.count == values.count ? 1 : dims.count
        guard indices.count == values.count * coordinates else {
            throw ModelError(.invalidGraph, "a sparse tensor has \(values.count) values and \(indices.count) indices")
        }
        for i in 0..<values.count {
            var offset = 0
            if coordinates == 1 {
                offset = indices[i]
                guard offset >= 0 && offset < output.count else { throw ModelError(.invalidGraph, "sparse index \(offset) is out of range") }
            } else {
                for k in 0..<coordinates { offset += try ShapeKernels.index(indices[i * coordinates + k], size: dims[k]) * strides[k] }
            }
            output.copy(from: values, i, to: offset, count: 1)
        }
        return output.tensor
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        [value]
    }
}

extension Constant: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ConstantKernel(self) }
}
