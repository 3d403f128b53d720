/// `TfIdfVectorizer`: n-gram counts of each row of a 1-D or 2-D input, [C] → [K] or [N, C] → [N, K].
///
/// Matching n-grams is not arithmetic; IDF and TFIDF weighting costs 1 FLOP per output element.
public struct TfIdfVectorizer: OpSchema {
    /// K: one more than the largest n-gram index.
    public let width: Int
    let weighted: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        let mode = try reader.string("mode", default: "")
        guard ["TF", "IDF", "TFIDF"].contains(mode) else { throw reader.error("mode must be TF, IDF or TFIDF, got '\(mode)'") }
        weighted = mode != "TF"
        guard let indexes = try reader.ints("ngram_indexes"), indexes.allSatisfy({ $0 >= 0 && $0 < Int.max }) else {
            throw reader.error("ngram_indexes must list non-negative indexes")
        }
        width = (indexes.max() ?? -1) + 1
        let minimum = try reader.int("min_gram_length", default: 1), maximum = try reader.int("max_gram_length", default: 1)
        guard minimum > 0, minimum <= maximum else { throw reader.error("gram lengths \(minimum)…\(maximum) are invalid") }
        let integers = try reader.ints("pool_int64s"), strings = try reader.strings("pool_strings")
        guard (integers == nil) != (strings == nil) else { throw reader.error("exactly one of pool_int64s and pool_strings must be set") }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        guard let s = inputs[input: 0]?.shape else { return [ValueFact(dtype: .float, shape: nil)] }
        switch s.rank {
        case 1: return [ValueFact(dtype: .float, shape: Shape([width]))]
        case 2: return [ValueFact(dtype: .float, shape: Shape([s.dims[0], .known(width)]))]
        default: throw reader.error("the input must have rank 1 or 2, got \(s.rank)")
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: weighted ? 1 : 0)
    }
}

/// String operators: `StringNormalizer`, `RegexFullMatch`, `StringConcat` and `StringSplit`.
///
/// String work is not arithmetic: zero FLOPs. How many strings survive stop
/// words, and how many pieces a split gives, depends on the data: unknown dims.
public struct StringOperator: OpSchema {
    /// The operator this node is.
    public let op: String
    let removesStopwords: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        removesStopwords = try !(reader.strings("stopwords") ?? []).isEmpty
        switch op {
        case "StringNormalizer":
            let action = try reader.string("case_change_action", default: "NONE")
            guard ["LOWER", "UPPER", "NONE"].contains(action) else { throw reader.error("unknown case_change_action '\(action)'") }
        case "StringSplit":
            if let maxsplit = try reader.int("maxsplit"), maxsplit < 0 { throw reader.error("maxsplit must not be negative") }
        default:
            break
        }
        try reader.expectInputs(op == "StringConcat" ? 2...2 : 1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]?.shape
        switch op {
        case "StringConcat":
            return [ValueFact(dtype: .string, shape: try Broadcast.shape([x, inputs[input: 1]?.shape], node: reader))]
        case "RegexFullMatch":
            return [ValueFact(dtype: .bool, shape: x)]
        case "StringSplit":
            // An empty input has no pieces, so the padded last axis is empty too.
            let pieces: Dim = x?.elementCount == 0 ? .known(0) : .unknown
            return [ValueFact(dtype: .string, shape: x.map { Shape($0.dims + [pieces]) }),
                    ValueFact(dtype: .int64, shape: x)]
        default:
            guard let x, removesStopwords else { return [ValueFact(dtype: .string, shape: x)] }
            switch x.rank {
            case 1: return [ValueFact(dtype: .string, shape: Shape([Dim.unknown]))]
            case 2: return [ValueFact(dtype: .string, shape: Shape([x.dims[0], .unknown]))]
            default: throw reader.error("StringNormalizer takes [C] or [1, C], got rank \(x.rank)")
            }
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
