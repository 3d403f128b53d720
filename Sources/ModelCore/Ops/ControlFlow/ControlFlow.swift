/// Control flow (`If`, `Loop`, `Scan`, `SequenceMap`) and the operators on sequence and optional values.
///
/// Analysis tracks tensors only: a sequence or optional value gets a fact
/// with neither element type nor shape. What a control-flow node's outputs
/// look like comes from the types its subgraphs declare for their outputs.
/// Counting rule (docs/COUNTING.md): `If`, `Loop` and `Scan` are
/// `RunsSubgraphs`: the analysis counts their bodies' nodes and the schema
/// says how often each body runs. `SequenceMap` runs its body once per
/// sequence element, a number the analysis does not know, so it is left
/// uncounted (listed, never counted as zero). The sequence and optional
/// operators only move or wrap values and count zero.
public enum ControlFlow {
    /// What a subgraph's declared output type says; nothing for a sequence, optional or undeclared value.
    static func declared(_ info: ValueInfo) -> ValueFact {
        guard case .tensor(let dtype, let shape)? = info.type else { return .unknown }
        return ValueFact(dtype: dtype == .undefined ? nil : dtype, shape: shape)
    }

    /// A value that is one of two facts: equal dims stay, differing dims
    /// become unknown, and differing ranks leave the rank unknown.
    static func either(_ a: ValueFact, _ b: ValueFact) -> ValueFact {
        let dtype = a.dtype == b.dtype || b.dtype == nil ? a.dtype : (a.dtype == nil ? b.dtype : nil)
        guard let x = a.shape, let y = b.shape, x.rank == y.rank else { return ValueFact(dtype: dtype, shape: nil) }
        return ValueFact(dtype: dtype, shape: Shape(zip(x.dims, y.dims).map { $0 == $1 ? $0 : .unknown }))
    }
}

/// An operator that runs subgraphs (`If`, `Loop`, `Scan`): the analysis counts
/// each body's nodes, with the facts the schema gives the body's inputs, and
/// the schema turns the bodies' costs into the node's.
public protocol RunsSubgraphs: OpSchema {
    /// The bodies this node may run, with facts for their formal inputs.
    func bodies(_ inputs: [ValueFact?]) -> [SubgraphCall]
    /// The node's cost from its bodies' costs (one per `bodies` entry, in
    /// that order), or `nil` when the rule cannot give one.
    func cost(_ inputs: [ValueFact?], bodies: [OpCost]) -> SubgraphCost?
}

/// One body of a control-flow node and the facts its inputs start with.
public struct SubgraphCall: Sendable {
    /// The attribute holding the body: `then_branch`, `body`, ….
    public let attribute: String
    public let graph: Graph
    /// One per formal input of `graph`.
    public let inputs: [ValueFact]
}

/// A control-flow node's cost, and how it is not exact when it is not.
public struct SubgraphCost: Sendable, Equatable {
    public let cost: OpCost
    /// `nil` when exact; otherwise what the count stands for, e.g. "per
    /// iteration: the trip count is not known".
    public let estimate: String?

    public init(_ cost: OpCost, estimate: String? = nil) {
        self.cost = cost
        self.estimate = estimate
    }
}

extension OpCost {
    /// The sum of two costs, or `nil` on overflow.
    public func adding(_ other: OpCost) -> OpCost? {
        let (macs, o1) = macs.addingReportingOverflow(other.macs)
        let (flops, o2) = flops.addingReportingOverflow(other.flops)
        return o1 || o2 ? nil : OpCost(macs: macs, flops: flops)
    }

    /// This cost repeated `times` times, or `nil` on overflow.
    public func repeated(_ times: Int) -> OpCost? {
        let (macs, o1) = macs.multipliedReportingOverflow(by: times)
        let (flops, o2) = flops.multipliedReportingOverflow(by: times)
        return o1 || o2 || times < 0 ? nil : OpCost(macs: macs, flops: flops)
    }
}
