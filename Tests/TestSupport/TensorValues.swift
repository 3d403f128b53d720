import ModelInfo

extension EngineTensor {
    /// A tensor of `dtype` and `shape` holding `values`, stored as `T` (of the
    /// type's width): the kernel tests' inputs.
    public static func holding<T>(_ values: [T], _ dtype: DType, _ shape: [Int]) throws -> EngineTensor {
        let tensor = try EngineTensor(dtype: dtype, shape: shape)
        guard tensor.count == values.count else {
            throw ModelError(.invalidInput, "\(values.count) values of \(T.self) do not fill a \(dtype) tensor of shape \(shape)")
        }
        let target = tensor.elements(T.self)
        for (i, v) in values.enumerated() { target[i] = v }
        return tensor
    }
}
