internal import CKernels
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss

/// NegativeLogLikelihoodLoss over log-probabilities, and
/// SoftmaxCrossEntropyLoss (a log-softmax over axis 1 first), for scores
/// [N, C, d1, …] and class labels [N, d1, …].
struct LossKernel: Kernel {
    let softmax: Bool
    let reduction: String
    let ignoreIndex: Int?
    let outputCount: Int

    init(_ schema: ClassificationLoss, _ setup: KernelSetup) throws(ModelError) {
        softmax = schema.op == "SoftmaxCrossEntropyLoss"
        reduction = schema.reduction
        ignoreIndex = schema.ignoreIndex
        outputCount = max(1, setup.node.outputs.count)
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let scores = try requiredInput(inputs, 0, "scores")
        let labels = try requiredInput(inputs, 1, "labels")
        let weight = optionalInput(inputs, 2)
        guard scores.dtype.kind == .float else { throw ModelError(.invalidGraph, "scores must be floating-point, got \(scores.dtype)") }
        guard scores.shape.count >= 2 else { throw ModelError(.invalidGraph, "scores must have rank 2 or more, got \(scores.shape)") }
        let n = scores.shape[0], c = scores.shape[1]
        let spatial = Array(scores.shape.dropFirst(2))
        let d = spatial.reduce(1, *)
        guard labels.shape == [n] + spatial else {
            throw ModelError(.invalidGraph, "labels have shape \(labels.shape); scores \(scores.shape) need \([n] + spatial)")
        }
        let targets = try integerValues(labels, "labels")
        var weights: [Double]?
        if let weight {
            guard weight.shape == [c] else { throw ModelError(.invalidGraph, "weights must have shape [\(c)], got \(weight.shape)") }
            weights = try realValues(weight)
        }
        var x = try realValues(scores)
        if softmax {
            for image in 0..<n {
                for p in 0..<d {
                    let base = image * c * d + p
                    var top = -Double.infinity
                    for k in 0..<c { top = Swift.max(top, x[base + k * d]) }
                    var sum = 0.0
                    for k in 0..<c { sum += Glibc.exp(x[base + k * d] - top) }
                    let shift = top + Glibc.log(sum)
                    for k in 0..<c { x[base + k * d] -= shift }
                }
            }
        }
        var losses = [Double](repeating: 0, count: n * d)
        var total = 0.0, weightTotal = 0.0
        for image in 0..<n {
            for p in 0..<d {
                let t = targets[image * d + p]
                if let ignoreIndex, t == ignoreIndex { continue }
                guard t >= 0, t < c else { throw ModelError(.invalidGraph, "class label \(t) is outside 0..<\(c)") }
                let w = weights?[t] ?? 1
                let loss = -x[(image * c + t) * d + p] * w
                losses[image * d + p] = loss
                total += loss
                weightTotal += w
            }
        }
        let loss: EngineTensor
        switch reduction {
        case "none": loss = try tensorFromReals(losses, dtype: scores.dtype, shape: labels.shape)
        case "sum": loss = try tensorFromReals([total], dtype: scores.dtype, shape: [])
        default: loss = try tensorFromReals([total / weightTotal], dtype: scores.dtype, shape: [])
        }
        if softmax && outputCount > 1 {
            return [loss, try tensorFromReals(x, dtype: scores.dtype, shape: scores.shape)]
        }
        return [loss]
    }
}

extension ClassificationLoss: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try LossKernel(self, setup) }
}
