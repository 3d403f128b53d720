internal import CKernels
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Einsum

/// Einsum by direct summation over every index, in float64 (integers exactly
/// up to 2^53), for any numeric type; repeated indices take diagonals and an
/// ellipsis broadcasts.
struct EinsumKernel: Kernel {
    /// Index letters of each operand; `nil` marks the ellipsis.
    let terms: [[Character?]]
    let output: [Character?]?

    init(_ schema: Einsum) {
        // The schema's letters, with the ellipsis as nil.
        terms = schema.operands.map { $0.map { $0 == "." ? nil : $0 } }
        output = schema.explicitOutput.map { $0.map { $0 == "." ? nil : $0 } }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        guard inputs.count == terms.count else { throw ModelError(.invalidGraph, "the equation names \(terms.count) operands, the node has \(inputs.count)") }
        var operands: [EngineTensor] = []
        for i in 0..<inputs.count { operands.append(try requiredInput(inputs, i, "operand \(i)")) }
        let dtype = operands[0].dtype
        guard [.float, .signedInteger, .unsignedInteger].contains(dtype.kind) else {
            throw ModelError(.invalidGraph, "Einsum runs numeric tensors, got \(dtype)")
        }
        guard operands.allSatisfy({ $0.dtype == dtype }) else { throw ModelError(.invalidGraph, "Einsum operands must share one type") }
        // Labels: letters by their scalar value, ellipsis dims as −1 − (position from the right).
        var ellipsisRank = 0
        for (term, tensor) in zip(terms, operands) {
            let named = term.filter { $0 != nil }.count
            guard term.contains(where: { $0 == nil }) ? tensor.shape.count >= named : tensor.shape.count == named else {
                throw ModelError(.invalidGraph, "operand of shape \(tensor.shape) does not match its einsum term")
            }
            ellipsisRank = max(ellipsisRank, tensor.shape.count - named)
        }
        var sizes: [Int: Int] = [:]
        var labelsOf: [[Int]] = []
        var counts: [Int: Int] = [:]
        for (term, tensor) in zip(terms, operands) {
            var labels: [Int] = []
            let span = tensor.shape.count - term.filter { $0 != nil }.count
            for entry in term {
                if let letter = entry {
                    labels.append(Int(letter.unicodeScalars.first!.value))
                } else {
                    for j in 0..<span { labels.append(-1 - (span - 1 - j)) }
                }
            }
            for (label, size) in zip(labels, tensor.shape) {
                if let known = sizes[label], known != size {
                    guard known == 1 || size == 1 else { throw ModelError(.invalidGraph, "einsum index has sizes \(known) and \(size)") }
                    sizes[label] = max(known, size)
                } else if sizes[label] == nil {
                    sizes[label] = size
                }
                if label >= 0 { counts[label, default: 0] += 1 }
            }
            labelsOf.append(labels)
        }
        var outLabels: [Int] = (0..<ellipsisRank).map { -1 - (ellipsisRank - 1 - $0) }
        if let output {
            outLabels = []
            for entry in output {
                if let letter = entry {
                    let label = Int(letter.unicodeScalars.first!.value)
                    guard sizes[label] != nil, !outLabels.contains(label) else { throw ModelError(.invalidGraph, "invalid einsum output index '\(letter)'") }
                    outLabels.append(label)
                } else {
                    outLabels += (0..<ellipsisRank).map { -1 - (ellipsisRank - 1 - $0) }
                }
            }
        } else {
            outLabels += counts.filter { $0.value == 1 }.keys.sorted()
        }
        let summed = sizes.keys.filter { !outLabels.contains($0) }.sorted()
        let all = outLabels + summed
        let extents = all.map { sizes[$0]! }
        let outShape = outLabels.map { sizes[$0]! }
        // Bounded products: the direct kernel visits every output element once per summed combination.
        func product(_ values: [Int]) -> Int? {
            var result = 1
            for v in values {
                let (next, overflow) = result.multipliedReportingOverflow(by: v)
                guard !overflow, next < 1 << 40 else { return nil }
                result = next
            }
            return result
        }
        guard let outCount = product(outShape), let sumCount = product(summed.map { sizes[$0]! }),
              let _ = product([outCount, sumCount]) else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "Einsum is too large for the direct kernel")
        }
        // Stride of each label in each operand (repeated labels add: a diagonal; size-1 dims broadcast).
        var strides: [[Int]] = []
        var values: [[Double]] = []
        for (labels, tensor) in zip(labelsOf, operands) {
            var perLabel = [Int](repeating: 0, count: all.count)
            var step = 1
            for axis in stride(from: labels.count - 1, through: 0, by: -1) {
                if tensor.shape[axis] != 1, let position = all.firstIndex(of: labels[axis]) { perLabel[position] += step }
                step *= tensor.shape[axis]
            }
            strides.append(perLabel)
            values.append(try realValues(tensor))
        }
        var result = [Double](repeating: 0, count: outCount)
        var index = [Int](repeating: 0, count: all.count)
        var offsets = [Int](repeating: 0, count: operands.count)
        let total = outCount * sumCount
        if total > 0 {
            for flat in 0..<total {
                var product = 1.0
                for k in 0..<operands.count { product *= values[k][offsets[k]] }
                result[flat / sumCount] += product
                // Advance the odometer.
                var axis = all.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    for k in 0..<operands.count { offsets[k] += strides[k][axis] }
                    if index[axis] < extents[axis] { break }
                    for k in 0..<operands.count { offsets[k] -= strides[k][axis] * extents[axis] }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        return [try tensorFromReals(result, dtype: dtype, shape: outShape)]
    }
}

extension Einsum: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { EinsumKernel(self) }
}
