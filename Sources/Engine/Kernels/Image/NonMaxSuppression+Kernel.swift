#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// NonMaxSuppression: per batch and class, boxes taken greedily by falling
/// score (the lower index first on ties), each kept unless it overlaps a
/// kept one by more than iou_threshold, up to max_output_boxes_per_class
/// (0 when omitted); only scores above score_threshold, when given, take
/// part. The output is [selected, 3] (batch, class, box), its length known
/// only after the run.
struct NonMaxSuppressionKernel: Kernel {
    let centerPointBox: Bool

    /// A box as its extent along each axis, whatever order the corners came in.
    struct Box {
        let low: (Double, Double)
        let high: (Double, Double)

        var area: Double { (high.0 - low.0) * (high.1 - low.1) }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let boxes = try requiredInput(inputs, 0, "boxes"), scores = try requiredInput(inputs, 1, "scores")
        guard boxes.shape.count == 3, boxes.shape[2] == 4, scores.shape.count == 3,
              scores.shape[0] == boxes.shape[0], scores.shape[2] == boxes.shape[1] else {
            throw ModelError(.invalidGraph, "NonMaxSuppression needs boxes [N, B, 4] and scores [N, C, B], got \(boxes.shape) and \(scores.shape)")
        }
        let (batches, classes, count) = (scores.shape[0], scores.shape[1], scores.shape[2])
        let limit = try optionalInput(inputs, 2).map { t throws(ModelError) in t.count == 0 ? 0 : try ShapeKernels.integers(t, "max_output_boxes_per_class")[0] } ?? 0
        let iou = try optionalInput(inputs, 3).map { t throws(ModelError) in t.count == 0 ? 0 : try ElementNumbers.doubles(t)[0] } ?? 0
        let threshold = try optionalInput(inputs, 4).flatMap { t throws(ModelError) in t.count == 0 ? nil : try ElementNumbers.doubles(t)[0] }
        let corners = try ElementNumbers.doubles(boxes), values = try ElementNumbers.doubles(scores)
        let shapes = (0..<(batches * count)).map { box(Array(corners[(4 * $0)..<(4 * $0 + 4)])) }

        var selected: [Int] = []
        for b in 0..<batches {
            for c in 0..<classes {
                let row = (b * classes + c) * count
                let candidates = (0..<count)
                    .filter { i in threshold.map { values[row + i] > $0 } ?? true }
                    .sorted { values[row + $0] > values[row + $1] || (values[row + $0] == values[row + $1] && $0 < $1) }
                var kept: [Int] = []
                for i in candidates where kept.count < limit {
                    let candidate = shapes[b * count + i]
                    if kept.allSatisfy({ !Self.overlaps(candidate, shapes[b * count + $0], more: iou) }) {
                        kept.append(i)
                        selected += [b, c, i]
                    }
                }
            }
        }
        return [try ShapeKernels.int64Tensor(selected, shape: [selected.count / 3, 3])]
    }

    /// The extent of one box's four numbers.
    func box(_ v: [Double]) -> Box {
        if centerPointBox {
            return Box(low: (v[0] - v[2] / 2, v[1] - v[3] / 2), high: (v[0] + v[2] / 2, v[1] + v[3] / 2))
        }
        return Box(low: (min(v[0], v[2]), min(v[1], v[3])), high: (max(v[0], v[2]), max(v[1], v[3])))
    }

    /// Whether the intersection over union of two boxes exceeds `threshold`; boxes without area never do.
    static func overlaps(_ a: Box, _ b: Box, more threshold: Double) -> Bool {
        let width0 = min(a.high.0, b.high.0) - max(a.low.0, b.low.0)
        let width1 = min(a.high.1, b.high.1) - max(a.low.1, b.low.1)
        guard width0 > 0, width1 > 0, a.area > 0, b.area > 0 else { return false }
        let intersection = width0 * width1, union = a.area + b.area - intersection
        guard union > 0 else { return false }
        return intersection / union > threshold
    }
}

extension NonMaxSuppression: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        NonMaxSuppressionKernel(centerPointBox: centerPointBox)
    }
}
