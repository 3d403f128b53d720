/// Recurrent layers, attention and the operators that carry a sequence model's state.
///
/// Counting rule (docs/COUNTING.md): matrix products count as MACs; the
/// elementwise work around them counts one FLOP per arithmetic operation or
/// transcendental function, with the activation costs `Elementwise` uses for
/// the standalone operators (Sigmoid 4, Tanh 1, Swish 5, Softmax 5 per element).
public enum SequenceModels {
    /// One dimension that two inputs both give: a number beats a symbol or an
    /// unknown, and two different numbers are an error.
    static func same(_ a: Dim, _ b: Dim, _ what: String, _ reader: AttributeReader) throws(ModelError) -> Dim {
        switch (a, b) {
        case (.known(let x), .known(let y)):
            guard x == y else { throw reader.error("\(what) is \(x) in one input and \(y) in another") }
            return a
        case (.unknown, _), (.symbol, .known): return b
        default: return a
        }
    }

    /// `whole` split into `parts` equal pieces; throws when known numbers do not divide.
    static func share(_ whole: Dim, _ parts: Dim, _ what: String, _ reader: AttributeReader) throws(ModelError) -> Dim {
        if let w = whole.value, let p = parts.value, p > 0, w % p != 0 {
            throw reader.error("\(what) \(w) is not a multiple of \(p)")
        }
        return whole.dividedExactly(by: parts)
    }

    /// The sum of non-negative counts, or `nil` when one is missing or the sum overflows.
    static func total(_ terms: [Int?]) -> Int? {
        var sum = 0
        for term in terms {
            guard let term, term >= 0 else { return nil }
            let (s, overflow) = sum.addingReportingOverflow(term)
            if overflow { return nil }
            sum = s
        }
        return sum
    }
}
