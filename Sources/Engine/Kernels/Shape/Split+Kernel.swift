#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Split: consecutive parts along `axis`, sized by input 1, the `split`
/// attribute, `num_outputs` (the last part smaller) or equally.
struct SplitKernel: Kernel {
    let axis: Int
    let splitAttribute: [Int]?
    let unevenLast: Bool
    let outputCount: Int

    init(_ schema: Split, _ setup: KernelSetup) throws(ModelError) {
        axis = schema.axis
        splitAttribute = schema.splitAttribute
        unevenLast = schema.numOutputs != nil
        outputCount = setup.node.outputs.count
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "input")
        let a = try ShapeKernels.axis(axis, rank: data.shape.count)
        let size = data.shape[a], n = outputCount
        var sizes: [Int]
        if let given = try optionalInput(inputs, 1).map({ t throws(ModelError) in try ShapeKernels.integers(t, "split") }) ?? splitAttribute {
            sizes = given
        } else if unevenLast {
            let chunk = (size + n - 1) / n
            sizes = (0..<n).map { max(0, min(chunk, size - $0 * chunk)) }
        } else {
            guard size % n == 0 else { throw ModelError(.invalidGraph, "cannot split \(size) into \(n) equal parts") }
            sizes = Array(repeating: size / n, count: n)
        }
        guard sizes.count == n, Self.sizes(sizes, addUpTo: size) else {
            throw ModelError(.invalidGraph, "split sizes \(sizes) do not cut \(size) into \(n) parts")
        }
        return try Self.cut(data, axis: a, sizes: sizes)
    }

    /// Whether `sizes` are all non-negative and add up to `length`. The sum
    /// is checked: sizes near Int.max would otherwise wrap to a plausible total.
    static func sizes(_ sizes: [Int], addUpTo length: Int) -> Bool {
        var total = 0
        for size in sizes {
            guard size >= 0 else { return false }
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow else { return false }
            total = sum
        }
        return total == length
    }

    /// `data` cut into consecutive parts of `sizes` along axis `a` (checked: they add up to its length).
    static func cut(_ data: EngineTensor, axis a: Int, sizes: [Int]) throws(ModelError) -> [EngineTensor] {
        let size = data.shape[a]
        let outer = data.shape[..<a].reduce(1, *), inner = data.shape[(a + 1)...].reduce(1, *)
        var results: [EngineTensor] = []
        var start = 0
        for length in sizes {
            var dims = data.shape
            dims[a] = length
            var output = try ElementOutput(dtype: data.dtype, shape: dims)
            for o in 0..<outer {
                output.copy(from: data, (o * size + start) * inner, to: o * length * inner, count: length * inner)
            }
            results.append(output.tensor)
            start += length
        }
        return results
    }
}

extension Split: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try SplitKernel(self, setup) }
}
