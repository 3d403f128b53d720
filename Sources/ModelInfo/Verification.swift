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
        self.name = name
        maxAbsoluteError = 0
        maxRelativeError = 0
        mismatches = 0
        elements = expected.elementCount
        guard actual.dims == expected.dims else {
            problem = "shape \(actual.dims) differs from the reference \(expected.dims)"
            return
        }
        if expected.dtype == .string || actual.dtype == .string {
            guard let a = try? actual.stringValues(), let e = try? expected.stringValues() else {
                problem = "type \(actual.dtype) differs from the reference \(expected.dtype)"
                return
            }
            for (i, (x, y)) in zip(a, e).enumerated() where x != y {
                mismatches += 1
                if firstMismatch == nil { firstMismatch = i }
            }
            return
        }
        guard actual.dtype == expected.dtype else {
            problem = "type \(actual.dtype) differs from the reference \(expected.dtype)"
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
            problem = error.message
            return
        }
        var dot = 0.0, normA = 0.0, normE = 0.0
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
                dot += a * e
                normA += a * a
                normE += e * e
            }
            if !ok {
                mismatches += 1
                if firstMismatch == nil { firstMismatch = i }
            }
        }
        if normA > 0 && normE > 0 { cosineSimilarity = dot / (normA.squareRoot() * normE.squareRoot()) }
        else if normA == 0 && normE == 0 { cosineSimilarity = 1 }
    }
}
