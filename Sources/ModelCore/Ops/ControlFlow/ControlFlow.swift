/// Control flow (`If`, `Loop`, `Scan`, `SequenceMap`) and the operators on sequence and optional values.
///
/// Analysis tracks tensors only: a sequence or optional value gets a fact
/// with neither element type nor shape. Subgraphs are not analysed; what the
/// node's outputs look like comes from the types the subgraphs declare for
/// their outputs. Counting rule (docs/COUNTING.md): a node that runs a
/// subgraph is left uncounted (`cost` is `nil`), so that it is listed rather
/// than counted as zero, because how often a body runs and what its nodes
/// cost is not analysed; the sequence and optional operators only move or
/// wrap values and count zero.
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
