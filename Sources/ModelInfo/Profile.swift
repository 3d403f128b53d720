/// Where a run's time goes, step by step, next to what the analysis counts
/// for the same nodes: `modelinfo bench --profile`.
///
/// A step is one node, or a group the engine fused (a Conv with its
/// BatchNormalization and Relu, a GELU chain): it is named by its first node
/// and counts the FLOPs of all of them. Its bytes are those that cross the
/// step's edge, its inputs from outside and its outputs read outside;
/// values passed inside a fused group never reach memory.
public struct Profile: Sendable, Encodable {
    /// One step.
    public struct Step: Sendable, Encodable {
        public let name: String
        /// The op, or the fused ops joined by `+`.
        public let op: String
        /// Median over the profiled runs.
        public let ms: Double
        /// Of the sum of all steps' medians.
        public let share: Double
        public let flops: Int
        public let gflops: Double
        public let bytes: Int
        public let gbPerSecond: Double
        /// `compute` or `memory` against the machine's balance, or `none` for a step that neither computes nor moves bytes.
        public let bound: String
        /// Why the analysis could not count the step's work, when it could not (its FLOPs are then a lower bound).
        public let uncounted: String?
    }

    /// Steps gathered by op, stage or resolution (`--group-by`), keyed as the analysis groups nodes.
    public struct Group: Sendable, Encodable {
        public let key: String
        public let steps: Int
        public let ms: Double
        public let share: Double
        public let flops: Int
        public let gflops: Double
        public let bytes: Int
        public let bound: String
    }

    /// Median of the runs without timing, taken alternately with the profiled ones.
    public let medianMs: Double
    /// Median of the profiled runs' totals.
    public let profiledMs: Double
    /// The sum of the steps' medians.
    public let stepsMs: Double
    /// What timing each step added: (profiledMs − medianMs) / medianMs, in percent.
    public let overheadPercent: Double
    public let runs: Int
    public let threads: Int
    public let peaks: MachinePeaks
    /// In execution order.
    public let nodes: [Step]
    /// Present with a grouping, largest time first.
    public let groups: [Group]?

    /// Builds the profile of `plan` (planned from the model `analysis` describes)
    /// from each profiled run's step times, in nanoseconds.
    public init(plan: ExecutionPlan, analysis: ModelAnalysis, stepNanoseconds: [[UInt64]], runMs: (plain: [Double], profiled: [Double]),
                threads: Int, peaks: MachinePeaks, groupBy: GroupingKey?) {
        let reports = Dictionary(analysis.nodes.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        let steps = plan.stepNodes
        let medians = steps.indices.map { j in Self.median(stepNanoseconds.compactMap { j < $0.count ? Double($0[j]) / 1e6 : nil }) }
        let total = medians.reduce(0, +)
        func bound(flops: Int, bytes: Int) -> String {
            if flops == 0 && bytes == 0 { return "none" }
            return Double(flops) >= peaks.balance * Double(bytes) ? "compute" : "memory"
        }
        var made: [Step] = []
        for (step, ms) in zip(steps, medians) {
            let members = step.nodes.compactMap { reports[$0] }
            let (flops, bytes) = Self.work(of: members)
            let seconds = ms / 1e3
            let reasons = members.compactMap(Self.uncountedReason)
            made.append(Step(name: members.first?.name ?? step.label, op: members.map(\.op).joined(separator: "+"), ms: ms,
                             share: total > 0 ? ms / total : 0, flops: flops, gflops: seconds > 0 ? Double(flops) / seconds / 1e9 : 0,
                             bytes: bytes, gbPerSecond: seconds > 0 ? Double(bytes) / seconds / 1e9 : 0, bound: bound(flops: flops, bytes: bytes),
                             uncounted: reasons.isEmpty ? nil : reasons.joined(separator: "; ")))
        }
        nodes = made
        medianMs = Self.median(runMs.plain)
        profiledMs = Self.median(runMs.profiled)
        stepsMs = total
        overheadPercent = medianMs > 0 ? (profiledMs - medianMs) / medianMs * 100 : 0
        runs = stepNanoseconds.count
        self.threads = threads
        self.peaks = peaks

        guard let groupBy else {
            groups = nil
            return
        }
        let keys = analysis.groupKeys(by: groupBy)
        let keyOfNode = Dictionary(zip(analysis.nodes.map(\.index), keys), uniquingKeysWith: { first, _ in first })
        var order: [String] = [], sums: [String: (steps: Int, ms: Double, flops: Int, bytes: Int)] = [:]
        for (step, made) in zip(steps, made) {
            let key = step.nodes.first.flatMap { keyOfNode[$0] } ?? "?"
            if sums[key] == nil { order.append(key) }
            let sum = sums[key] ?? (0, 0, 0, 0)
            sums[key] = (sum.steps + 1, sum.ms + made.ms, sum.flops + made.flops, sum.bytes + made.bytes)
        }
        groups = order.map { key in
            let sum = sums[key]!
            let seconds = sum.ms / 1e3
            return Group(key: key, steps: sum.steps, ms: sum.ms, share: total > 0 ? sum.ms / total : 0, flops: sum.flops,
                         gflops: seconds > 0 ? Double(sum.flops) / seconds / 1e9 : 0, bytes: sum.bytes,
                         bound: bound(flops: sum.flops, bytes: sum.bytes))
        }.sorted { $0.ms > $1.ms }
    }

    /// Why the analysis did not count `node`; nil when it did.
    static func uncountedReason(_ node: NodeReport) -> String? {
        switch node.status {
        case .counted: return nil
        case .unknownOperator: return "\(node.name): no schema for \(node.op)"
        case .uncounted: return "\(node.name): " + (node.note ?? "its input shapes are not known")
        case .invalid(let why): return "\(node.name): \(why)"
        }
    }

    /// FLOPs of all the step's nodes; bytes of the values that cross the step's edge.
    static func work(of members: [NodeReport]) -> (flops: Int, bytes: Int) {
        let made = Set(members.flatMap(\.node.outputs))
        let read = Set(members.flatMap(\.node.inputs))
        var bytes = 0
        for member in members {
            for (name, fact) in zip(member.node.inputs, member.inputs) where !made.contains(name) { bytes += fact?.byteCount ?? 0 }
            // A fused group's last output leaves it; its inner values are read only inside.
            for (name, fact) in zip(member.node.outputs, member.outputs) where !read.contains(name) {
                bytes += fact?.byteCount ?? 0
            }
        }
        return (members.reduce(0) { $0 + $1.flops }, bytes)
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
