internal import CKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Softmax, LogSoftmax, Hardmax

/// Softmax, LogSoftmax and Hardmax. From opset 13 they work along `axis`
/// alone; before, the input is flattened to 2-D at `axis` and they work
/// along the whole second dimension.
struct SoftmaxKernel: Kernel {
    /// Which row operation.
    enum Operation: Sendable { case softmax, logSoftmax, hardmax }

    let operation: Operation
    let axis: Int
    let flattenFromAxis: Bool
    let op: String

    init(_ schema: RowOperator, _ setup: KernelSetup) throws(ModelError) {
        op = setup.node.opType
        operation = op == "Softmax" ? .softmax : op == "LogSoftmax" ? .logSoftmax : .hardmax
        axis = schema.axis
        flattenFromAxis = setup.opset < 13
    }

    /// The operation over one element type.
    struct Apply: RealVisitor {
        let operation: Operation
        let x: EngineTensor
        let outer: Int, length: Int, inner: Int
        let context: ExecutionContext

        func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
            let (from, to) = (x.elements(T.self), output.elements(T.self))
            let (length, inner, operation) = (self.length, self.inner, self.operation)
            let rows = outer * inner
            context.parallelRanges(rows, grain: Swift.max(1, 4096 / Swift.max(length, 1))) { range in
                var values = [T.Compute](repeating: 0, count: length)
                for row in range {
                    let base = (row / inner) * length * inner + row % inner
                    for j in 0..<length { values[j] = from[base + j * inner].computed }
                    Self.transform(&values, operation)
                    for j in 0..<length { to[base + j * inner] = T(computed: values[j]) }
                }
            }
            return output
        }

        /// One row, in place.
        static func transform<C: Real>(_ values: inout [C], _ operation: Operation) {
            guard !values.isEmpty else { return }
            var largest = values[0], at = 0
            for (j, v) in values.enumerated() where v > largest {
                largest = v
                at = j
            }
            switch operation {
            case .hardmax:
                for j in values.indices { values[j] = j == at ? 1 : 0 }
            case .softmax:
                var sum: C = 0
                for j in values.indices {
                    values[j] = C.exp(values[j] - largest)
                    sum += values[j]
                }
                for j in values.indices { values[j] /= sum }
            case .logSoftmax:
                var sum: C = 0
                for v in values { sum += C.exp(v - largest) }
                let logSum = C.log(sum)
                for j in values.indices { values[j] = values[j] - largest - logSum }
            }
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        let rank = x.shape.count
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < Swift.max(rank, 1) else { throw ModelError(.invalidGraph, "axis \(axis) is out of range for rank \(rank)") }
        let outer = elementCount(x.shape.prefix(a))
        let length = flattenFromAxis ? elementCount(x.shape.dropFirst(a)) : (rank == 0 ? 1 : x.shape[a])
        let inner = flattenFromAxis ? 1 : elementCount(x.shape.dropFirst(a + 1))
        if x.dtype == .float, inner == 1, operation != .hardmax {
            return [try contiguousRows(x, rows: outer, length: length, context)]
        }
        let apply = Apply(operation: operation, x: x, outer: outer, length: length, inner: inner, context: context)
        return [try ElementTypes.visit(x.dtype, apply, op)]
    }
}

extension SoftmaxKernel {
    /// Softmax or LogSoftmax of float32 rows that lie contiguous (the axis is
    /// the last one, as in attention), by CKernels' vectorised row kernel.
    func contiguousRows(_ x: EngineTensor, rows: Int, length: Int, _ context: ExecutionContext) throws(ModelError) -> EngineTensor {
        let output = try EngineTensor(dtype: .float, shape: x.shape)
        let (from, to) = (x.floats.baseAddress!, output.floats.baseAddress!)
        let log: Int32 = operation == .logSoftmax ? 1 : 0
        context.parallelRanges(rows, grain: Swift.max(1, elementwiseGrain / Swift.max(length, 1))) { range in
            ck_softmax_rows(from + range.lowerBound * length, to + range.lowerBound * length, range.count, length, log)
        }
        return output
    }
}

extension RowOperator: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try SoftmaxKernel(self, setup) }
}
