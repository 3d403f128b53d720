@_exported import Engine

/// How one output compares with its reference.
public struct OutputComparison: Sendable, Encodable {
    public var name: String
    public var maxAbsoluteError: Double
    public var maxRelativeError: Double
    /// Elements outside |actual − expected| ≤ atol + rtol·|expected|.
    public var mismatches: Int
    public var firstMismatch: Int?
    public var cosineSimilarity: Double?
    public var elements: Int
    /// Shape or type disagreement, when the values cannot be compared at all.
    public var problem: String?

    public var passed: Bool { problem == nil && mismatches == 0 }

    /// Compares `actual` with `expected` element by element. NaN matches NaN;
    /// infinities must match exactly; strings and integers compare exactly.
    public init(name: String, actual: Tensor, expected: Tensor, atol: Double, rtol: Double) {
        self.init(name: name, actual: .tensor(actual), expected: .tensor(expected), atol: atol, rtol: rtol)
    }

    /// An output that cannot be compared at all, for `problem`.
    public init(name: String, problem: String) {
        (self.name, self.problem) = (name, problem)
        (maxAbsoluteError, maxRelativeError, mismatches, elements) = (0, 0, 0, 0)
    }

    /// Compares two values of any kind. A sequence compares element by
    /// element and counts as one output: its errors are the largest of its
    /// elements', its mismatches and elements the sums, its first mismatch an
    /// index into the elements laid end to end. An optional compares what it
    /// holds; an empty one matches only an empty one.
    public init(name: String, actual: StoredValue, expected: StoredValue, atol: Double, rtol: Double) {
        self.name = name
        maxAbsoluteError = 0
        maxRelativeError = 0
        mismatches = 0
        elements = 0
        var sums = CosineSums()
        compare(actual, expected, atol: atol, rtol: rtol, at: "", sums: &sums)
        if problem == nil { cosineSimilarity = sums.cosine }
    }

    /// The running sums of a cosine similarity.
    private struct CosineSums {
        var dot = 0.0, normA = 0.0, normE = 0.0

        var cosine: Double? {
            if normA > 0 && normE > 0 { return dot / (normA.squareRoot() * normE.squareRoot()) }
            return normA == 0 && normE == 0 ? 1 : nil
        }
    }

    /// Adds the comparison of `actual` with `expected`; `path` names the
    /// place inside a sequence or optional ("element 2: ") for problems.
    private mutating func compare(_ actual: StoredValue, _ expected: StoredValue, atol: Double, rtol: Double, at path: String,
                                  sums: inout CosineSums) {
        guard problem == nil else { return }
        switch (actual, expected) {
        case (.tensor(let a), .tensor(let e)):
            compare(a, e, atol: atol, rtol: rtol, at: path, sums: &sums)
        case (.sequence(let a), .sequence(let e)):
            guard a.count == e.count else {
                problem = "\(path)a sequence of \(a.count) elements differs from the reference's \(e.count)"
                return
            }
            for (i, (x, y)) in zip(a, e).enumerated() {
                compare(x, y, atol: atol, rtol: rtol, at: "\(path)element \(i): ", sums: &sums)
            }
        case (.optional(let a), .optional(let e)):
            switch (a, e) {
            case (nil, nil): break
            case (let x?, let y?): compare(x, y, atol: atol, rtol: rtol, at: path, sums: &sums)
            default: problem = "\(path)" + (a == nil ? "an empty optional, the reference holds a value" : "an optional holding a value, the reference is empty")
            }
        default:
            problem = "\(path)\(actual.kind) where the reference is \(expected.kind)"
        }
    }

    private mutating func compare(_ actual: Tensor, _ expected: Tensor, atol: Double, rtol: Double, at path: String,
                                  sums: inout CosineSums) {
        let offset = elements
        elements += expected.elementCount
        guard actual.dims == expected.dims else {
            problem = "\(path)shape \(actual.dims) differs from the reference \(expected.dims)"
            return
        }
        func mismatch(at i: Int) {
            mismatches += 1
            if firstMismatch == nil { firstMismatch = offset + i }
        }
        if expected.dtype == .string || actual.dtype == .string {
            guard let a = try? actual.stringValues(), let e = try? expected.stringValues() else {
                problem = "\(path)type \(actual.dtype) differs from the reference \(expected.dtype)"
                return
            }
            for (i, (x, y)) in zip(a, e).enumerated() where x != y { mismatch(at: i) }
            return
        }
        guard actual.dtype == expected.dtype else {
            problem = "\(path)type \(actual.dtype) differs from the reference \(expected.dtype)"
            return
        }
        let values: (a: [Double], e: [Double])
        do {
            if expected.dtype == .complex64 || expected.dtype == .complex128 {
                values = (try actual.complexValues().flatMap { [$0.re, $0.im] }, try expected.complexValues().flatMap { [$0.re, $0.im] })
            } else {
                values = (try actual.doubleValues(), try expected.doubleValues())
            }
        } catch {
            problem = path + error.message
            return
        }
        for (i, (a, e)) in zip(values.a, values.e).enumerated() {
            let ok: Bool
            if a.isNaN || e.isNaN {
                ok = a.isNaN && e.isNaN
            } else if a.isInfinite || e.isInfinite {
                ok = a == e
            } else {
                let difference = abs(a - e)
                maxAbsoluteError = max(maxAbsoluteError, difference)
                if e != 0 { maxRelativeError = max(maxRelativeError, difference / abs(e)) }
                ok = difference <= atol + rtol * abs(e)
                sums.dot += a * e
                sums.normA += a * a
                sums.normE += e * e
            }
            if !ok { mismatch(at: i) }
        }
    }
}
