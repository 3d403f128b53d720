#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Range: start, start + delta, … up to limit (exclusive), in the inputs' type.
struct RangeKernel: Kernel {
    /// The most elements a Range may produce; the count comes from data, so it is bounded before allocating.
    static let maxElements = 1 << 31

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let operands = [try requiredInput(inputs, 0, "start"), try requiredInput(inputs, 1, "limit"),
                        try requiredInput(inputs, 2, "delta")]
        try ShapeKernels.sameType(operands, "Range")
        guard operands.allSatisfy({ $0.count == 1 }) else { throw ModelError(.invalidGraph, "start, limit and delta must be scalars") }
        let dtype = operands[0].dtype
        if dtype.kind == .signedInteger || dtype.kind == .unsignedInteger {
            let v = try operands.map { t throws(ModelError) in try ElementNumbers.integers(t)[0] }
            let (start, limit, delta) = (v[0], v[1], v[2])
            guard delta != 0 else { throw ModelError(.invalidGraph, "delta is zero") }
            let (span, overflow) = limit.subtractingReportingOverflow(start)
            let (quotient, overflowDividing) = span.dividedReportingOverflow(by: delta)
            guard !overflow, !overflowDividing else { throw ModelError(.limit, "the range from \(start) to \(limit) is too large") }
            var count = quotient
            if count * delta != span && (span > 0) == (delta > 0) { count += 1 }
            count = max(count, 0)
            guard count <= Self.maxElements else { throw ModelError(.limit, "the range has \(count) elements, more than the engine allows") }
            return [try ElementNumbers.tensor(integers: (0..<count).lazy.map { start &+ $0 &* delta }, dtype: dtype, shape: [count])]
        }
        let v = try operands.map { t throws(ModelError) in try ElementNumbers.doubles(t)[0] }
        let (start, limit, delta) = (v[0], v[1], v[2])
        guard delta != 0 else { throw ModelError(.invalidGraph, "delta is zero") }
        let steps = ((limit - start) / delta).rounded(.up)
        guard steps.isFinite || steps < 0, steps <= Double(Self.maxElements) else {
            throw ModelError(.limit, "the range from \(start) to \(limit) by \(delta) is too large")
        }
        let count = steps > 0 ? Int(steps) : 0
        return [try ElementNumbers.tensor((0..<count).lazy.map { start + Double($0) * delta }, dtype: dtype, shape: [count])]
    }
}

extension NumberRange: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { RangeKernel() }
}
