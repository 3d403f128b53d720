/// How closely a converted model's outputs follow the original's, on seeded inputs.
public struct OutputAgreement: Sendable, Encodable {
    public var name: String
    /// Worst over all samples.
    public var maxAbsoluteError: Double
    public var maxRelativeError: Double
    /// The widest spread (largest minus smallest finite value) of the original's output over all samples:
    /// the scale against which `maxAbsoluteError` reads.
    public var referenceRange: Double
    /// Lowest over all samples.
    public var minCosineSimilarity: Double
    /// For a classifier output ([batch, classes]): rows whose top class agrees, and rows compared.
    public var top1Agreements: Int?
    public var top1Rows: Int?
}

/// Runs an original and a converted model on the same seeded inputs.
public enum ConversionCheck {
    /// Compares every output of `converted` with `original` over `samples`
    /// inputs: the `given` tensors, and seeded random values for the other
    /// inputs (seeds `seed`, `seed+1`, …) in the shapes `options` fix.
    public static func compare(original: Model, converted: Model, options: AnalysisOptions, given: [String: Tensor] = [:],
                               samples: Int, seed: UInt64, threads: Int) throws(ModelError) -> [OutputAgreement] {
        let reference = try ExecutionPlan(model: original)
        let candidate = try ExecutionPlan(model: converted)
        let context = ExecutionContext(threads: threads)
        var agreements: [String: OutputAgreement] = [:]
        for sample in 0..<UInt64(max(samples, 1)) {
            let feeds = try ModelInputs.random(for: original, options: options, seed: seed &+ sample, given: given)
            let expected = try reference.run(feeds, context: context)
            let actual = try candidate.run(feeds, context: context)
            for name in reference.outputNames {
                guard let e = expected[name], let a = actual[name] else { continue }
                let comparison = OutputComparison(name: name, actual: try a.stored(name: name), expected: try e.stored(name: name),
                                                  atol: 0, rtol: 0)
                var agreement = agreements[name] ?? OutputAgreement(name: name, maxAbsoluteError: 0, maxRelativeError: 0,
                                                                    referenceRange: 0, minCosineSimilarity: 1)
                if let values = try? e.stored(name: name).doubleValues().filter(\.isFinite), let low = values.min(), let high = values.max() {
                    agreement.referenceRange = max(agreement.referenceRange, high - low)
                }
                agreement.maxAbsoluteError = max(agreement.maxAbsoluteError, comparison.maxAbsoluteError)
                agreement.maxRelativeError = max(agreement.maxRelativeError, comparison.maxRelativeError)
                agreement.minCosineSimilarity = min(agreement.minCosineSimilarity, comparison.cosineSimilarity ?? .nan)
                if e.dtype == .float, e.shape.count == 2, e.shape == a.shape, e.shape[1] > 1 {
                    let rows = e.shape[0], classes = e.shape[1]
                    let x = e.floats, y = a.floats
                    var agreeing = 0
                    for row in 0..<rows {
                        let range = (row * classes)..<((row + 1) * classes)
                        if range.max(by: { x[$0] < x[$1] }) == range.max(by: { y[$0] < y[$1] }) { agreeing += 1 }
                    }
                    agreement.top1Agreements = (agreement.top1Agreements ?? 0) + agreeing
                    agreement.top1Rows = (agreement.top1Rows ?? 0) + rows
                }
                agreements[name] = agreement
            }
        }
        return reference.outputNames.compactMap { agreements[$0] }
    }
}
