import ModelCore
import Synchronization

/// A value in an executing graph: a tensor, a sequence of tensors, or an
/// optional value. Tensors are stored inline (only the optional case is
/// boxed), so a plan of tensor kernels moves its values as before.
public enum EngineValue: Sendable {
    case tensor(EngineTensor)
    case sequence(EngineSequence)
    /// An optional value: `nil` when it holds nothing.
    indirect case optional(EngineValue?)

    /// The tensor this value is, or an error naming what it is instead.
    public func tensor(_ what: @autoclosure () -> String) throws(ModelError) -> EngineTensor {
        guard case .tensor(let tensor) = self else {
            throw ModelError(.invalidGraph, "\(what()) is \(kind), not a tensor")
        }
        return tensor
    }

    /// The sequence this value is, or an error naming what it is instead.
    public func sequence(_ what: @autoclosure () -> String) throws(ModelError) -> EngineSequence {
        guard case .sequence(let sequence) = self else {
            throw ModelError(.invalidGraph, "\(what()) is \(kind), not a sequence")
        }
        return sequence
    }

    /// "a tensor", "a sequence", "an optional": for error messages.
    public var kind: String {
        switch self {
        case .tensor: "a tensor"
        case .sequence: "a sequence"
        case .optional: "an optional"
        }
    }

    /// Every tensor this value holds, in order (for memory accounting and output files).
    public var tensors: [EngineTensor] {
        switch self {
        case .tensor(let tensor): [tensor]
        case .sequence(let sequence): Array(sequence.elements)
        case .optional(let content): content?.tensors ?? []
        }
    }
}

/// An ordered list of tensors of one element type, possibly empty.
public struct EngineSequence: Sendable {
    /// The element type; kept for an empty sequence, whose elements cannot tell it.
    public let elementType: DType
    /// This sequence's elements are the first `count` tensors of `store`.
    private let store: SequenceStore
    private let count: Int

    public var elements: ArraySlice<EngineTensor> { store.prefix(count) }

    /// A sequence of `elements`, which must all have `elementType`.
    public init(elementType: DType, _ elements: [EngineTensor] = []) throws(ModelError) {
        for element in elements where element.dtype != elementType {
            throw ModelError(.invalidGraph, "a sequence of \(elementType) cannot hold a \(element.dtype) tensor")
        }
        self.init(elementType: elementType, store: SequenceStore(elements), count: elements.count)
    }

    private init(elementType: DType, store: SequenceStore, count: Int) {
        self.elementType = elementType
        self.store = store
        self.count = count
    }

    /// A sequence of `elements`, with the type of the first (or `fallback` when empty).
    public init(elements: [EngineTensor], fallback: DType) throws(ModelError) {
        try self.init(elementType: elements.first?.dtype ?? fallback, elements)
    }

    /// The position that `index` names, counting from the end when negative;
    /// `end` allows the position just past the last element (for insertion).
    public func position(_ index: Int, allowingEnd end: Bool = false) throws(ModelError) -> Int {
        let position = index < 0 ? index + count : index
        guard position >= 0, position < count || (end && position == count) else {
            throw ModelError(.invalidGraph, "position \(index) is out of range for a sequence of \(count)")
        }
        return position
    }

    /// This sequence with `tensor` inserted at `position`. Appending shares
    /// this sequence's store when no other sequence has extended it yet, so
    /// a Loop that appends once per iteration does not copy every earlier
    /// element each time (which made it quadratic in the iterations).
    public func inserting(_ tensor: EngineTensor, at position: Int) throws(ModelError) -> EngineSequence {
        guard tensor.dtype == elementType else {
            throw ModelError(.invalidGraph, "a sequence of \(elementType) cannot hold a \(tensor.dtype) tensor")
        }
        let position = try self.position(position, allowingEnd: true)
        if position == count, store.append(tensor, toLength: count) {
            return EngineSequence(elementType: elementType, store: store, count: count + 1)
        }
        var elements = Array(self.elements)
        elements.insert(tensor, at: position)
        return EngineSequence(elementType: elementType, store: SequenceStore(elements), count: elements.count)
    }

    /// This sequence without the element at `position`.
    public func removing(at position: Int) throws(ModelError) -> EngineSequence {
        var elements = Array(self.elements)
        elements.remove(at: try self.position(position))
        return EngineSequence(elementType: elementType, store: SequenceStore(elements), count: elements.count)
    }
}

/// The tensors behind one or more sequences, each of which sees a prefix.
/// Tensors are only ever appended, so every sequence's prefix stays as it was.
final class SequenceStore: Sendable {
    private let tensors: Mutex<[EngineTensor]>

    init(_ tensors: [EngineTensor]) {
        self.tensors = Mutex(tensors)
    }

    func prefix(_ count: Int) -> ArraySlice<EngineTensor> {
        tensors.withLock { $0[..<count] }
    }

    /// Appends `tensor` if the store holds exactly `length` tensors, that is,
    /// if no other sequence has appended to it since; false otherwise.
    func append(_ tensor: EngineTensor, toLength length: Int) -> Bool {
        tensors.withLock { tensors in
            guard tensors.count == length else { return false }
            tensors.append(tensor)
            return true
        }
    }
}

// MARK: - Value kernels

/// A kernel whose inputs or outputs may be sequences or optionals
/// (sequence and optional operators, Identity, If, Loop). The plan calls
/// `run(values:)`; the tensor form that `Kernel` asks for is derived, so such
/// a kernel also runs where only tensors flow.
public protocol ValueKernel: Kernel {
    /// Computes the node's outputs; `nil` inputs are omitted inputs.
    func run(values inputs: [EngineValue?], _ context: ExecutionContext) throws(ModelError) -> [EngineValue?]
}

extension ValueKernel {
    public func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let outputs = try run(values: inputs.map { $0.map(EngineValue.tensor) }, context)
        return try outputs.enumerated().map { k, value throws(ModelError) in try value?.tensor("output \(k)") }
    }
}

/// Input `index` of a value kernel, which must be present.
func requiredValue(_ inputs: [EngineValue?], _ index: Int, _ what: String) throws(ModelError) -> EngineValue {
    guard index < inputs.count, let value = inputs[index] else { throw ModelError(.invalidGraph, "\(what) is missing") }
    return value
}

/// Input `index` of a value kernel, or nil when it is omitted.
func optionalValue(_ inputs: [EngineValue?], _ index: Int) -> EngineValue? {
    index < inputs.count ? inputs[index] : nil
}

extension EngineValue {
    /// The engine's form of a stored value of declared type `type`; the
    /// declared element type serves an empty sequence, whose file cannot tell it.
    public init(_ stored: StoredValue, type: ValueType?) throws(ModelError) {
        switch stored {
        case .tensor(let tensor):
            self = .tensor(try EngineTensor(tensor))
        case .sequence(let elements):
            var tensors: [EngineTensor] = []
            for element in elements {
                guard case .tensor(let tensor) = element else {
                    throw ModelError(.unsupported(op: nil, dtype: nil), "the engine runs sequences of tensors only")
                }
                tensors.append(try EngineTensor(tensor))
            }
            var fallback = DType.float
            if case .sequence(.tensor(let declared, _)?)? = type, declared != .undefined { fallback = declared }
            self = .sequence(try EngineSequence(elements: tensors, fallback: fallback))
        case .optional(let content):
            var inner: ValueType?
            if case .optional(let declared)? = type { inner = declared }
            self = .optional(try content.map { c throws(ModelError) in try EngineValue(c, type: inner) })
        }
    }

    /// This value as a stored value (copying the elements), e.g. to compare it with test data.
    public func stored(name: String) throws(ModelError) -> StoredValue {
        switch self {
        case .tensor(let tensor): .tensor(try tensor.stored(name: name))
        case .sequence(let sequence): .sequence(try sequence.elements.map { t throws(ModelError) in .tensor(try t.stored(name: name)) })
        case .optional(let content): .optional(try content.map { c throws(ModelError) in try c.stored(name: name) })
        }
    }
}
