import ModelCore

/// Det: the determinant of each M × M matrix in the last two axes, by LU
/// decomposition with partial pivoting in float64 (one matrix copy per
/// thread), rounded once to the input's floating-point type.
struct DeterminantKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "Det input X")
        guard [.float, .double, .float16, .bfloat16].contains(x.dtype) else {
            throw ElementTypes.unsupported("Det", x.dtype, "floating-point")
        }
        let rank = x.shape.count
        guard rank >= 2 else { throw ModelError(.invalidGraph, "Det needs rank 2 or more, got shape \(x.shape)") }
        let side = x.shape[rank - 1]
        guard x.shape[rank - 2] == side else { throw ModelError(.invalidGraph, "Det needs square matrices, got shape \(x.shape)") }
        let output = try EngineTensor(dtype: x.dtype, shape: Array(x.shape.dropLast(2)))
        // The input exists, so side² cannot overflow unless the batch is empty.
        let size = output.count == 0 ? 0 : side * side
        let read = try ElementNumbers.reader(x.dtype), write = try ElementNumbers.writer(x.dtype)
        let source = UnsafeRawPointer(x.buffer.base), target = output.buffer.base
        context.parallelRanges(output.count) { range in
            var matrix = [Double](repeating: 0, count: size)
            for m in range {
                for i in 0..<size { matrix[i] = read(source, m * size + i) }
                write(target, m, Self.determinant(&matrix, side: side))
            }
        }
        return [output]
    }

    /// The determinant of the row-major `side` × `side` matrix, which is overwritten by its LU factors.
    /// A zero pivot column makes it 0; NaN and infinity propagate.
    static func determinant(_ a: inout [Double], side n: Int) -> Double {
        var result = 1.0
        for column in 0..<n {
            var pivot = column
            for row in (column + 1)..<n where abs(a[row * n + column]) > abs(a[pivot * n + column]) {
                pivot = row
            }
            let p = a[pivot * n + column]
            if p == 0 { return 0 }
            if pivot != column {
                for j in column..<n { a.swapAt(pivot * n + j, column * n + j) }
                result = -result
            }
            result *= p
            for row in (column + 1)..<n {
                let factor = a[row * n + column] / p
                if factor == 0 { continue }
                for j in (column + 1)..<n { a[row * n + j] -= factor * a[column * n + j] }
            }
        }
        return result
    }
}

extension Determinant: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { DeterminantKernel() }
}
