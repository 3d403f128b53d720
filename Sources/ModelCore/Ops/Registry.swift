/// Which schema serves which operator.
///
/// Keys are op types of the default ONNX domain (`Conv`), or `domain.OpType`
/// for other domains. A node whose key is missing is an unknown operator:
/// analysis lists it instead of counting it as zero.
public enum OpRegistry {
    /// Each family's operators; a key must appear in one family only.
    static let families: [[String: any OpSchema.Type]] = [
        ["Conv": Conv.self, "ConvTranspose": ConvTranspose.self],
        ["Gemm": Gemm.self, "MatMul": MatMul.self, "Einsum": Einsum.self],
        Pooling.registrations,
        Normalization.registrations,
        Elementwise.registrations,
        ShapeOps.registrations,
        Reduction.registrations,
        SequenceModels.registrations,
        ControlFlow.registrations,
        Miscellaneous.registrations,
        Loss.registrations,
    ]

    static let table: [String: any OpSchema.Type] = {
        var table: [String: any OpSchema.Type] = [:]
        for family in families {
            table.merge(family) { first, _ in first }
        }
        return table
    }()

    /// Operator keys registered by more than one family (the first wins); empty when the families are consistent.
    public static var duplicateRegistrations: [String] {
        var seen: Set<String> = []
        var duplicates: [String] = []
        for family in families {
            for key in family.keys.sorted() {
                if !seen.insert(key).inserted { duplicates.append(key) }
            }
        }
        return duplicates
    }

    /// The registry key of a node: its op type, prefixed by a non-default domain.
    public static func key(domain: String, opType: String) -> String {
        domain.isEmpty || domain == "ai.onnx" ? opType : "\(domain).\(opType)"
    }

    /// Whether the project knows how to analyse this operator.
    public static func knows(domain: String, opType: String) -> Bool {
        table[key(domain: domain, opType: opType)] != nil
    }

    /// The schema for `node`, with its attributes read; `nil` for an unknown operator.
    public static func schema(for node: Node, opset: Int) throws(ModelError) -> (any OpSchema)? {
        guard let type = table[key(domain: node.domain, opType: node.opType)] else { return nil }
        return try type.init(node: node, opset: opset)
    }

    /// Every operator key the registry knows, sorted.
    public static var knownOperators: [String] { table.keys.sorted() }
}
