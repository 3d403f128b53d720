/// A value as a file stores it: a tensor, a sequence, or an optional value.
/// Test data of a graph input or output that is not a tensor
/// (`SequenceProto`, `OptionalProto`) reads into this.
public indirect enum StoredValue: Sendable, Equatable {
    case tensor(Tensor)
    case sequence([StoredValue])
    /// `nil` when the optional holds nothing.
    case optional(StoredValue?)
}

extension StoredValue {
    /// "a tensor", "a sequence", "an optional": for messages.
    public var kind: String {
        switch self {
        case .tensor: "a tensor"
        case .sequence: "a sequence"
        case .optional: "an optional"
        }
    }
}
