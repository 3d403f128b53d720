import CKernels
import Foundation
import Testing

/// The row kernels (softmax, mean, layer normalisation) against float64
/// references, on row lengths around the vector width so that both the
/// vector part and the remainder of a row are exercised.
@Suite struct RowKernelTests {
    static let lengths = [1, 7, 16, 17, 63, 197, 768]

    /// Deterministic values in [−spread, spread].
    static func values(_ count: Int, spread: Float, seed: Int) -> [Float] {
        (0..<count).map { i in spread * Float(sin(Double(i * 7919 + seed * 104729) * 0.001)) }
    }

    static func relativeError(_ value: Float, _ reference: Double) -> Double {
        abs(Double(value) - reference) / max(abs(reference), 1e-30)
    }

    @Test(arguments: lengths) func softmaxAndLogSoftmax(length: Int) {
        let rows = 3
        let x = Self.values(rows * length, spread: 30, seed: length)
        var soft = [Float](repeating: 0, count: x.count), log = soft
        ck_softmax_rows(x, &soft, rows, length, 0)
        ck_softmax_rows(x, &log, rows, length, 1)
        for r in 0..<rows {
            let row = x[r * length..<(r + 1) * length].map(Double.init)
            let largest = row.max()!
            let sum = row.reduce(0) { $0 + exp($1 - largest) }
            for (j, v) in row.enumerated() {
                let expected = exp(v - largest) / sum
                #expect(abs(Double(soft[r * length + j]) - expected) <= 4e-7 * max(expected, 1e-6), "softmax row \(r) [\(j)]")
                #expect(abs(Double(log[r * length + j]) - (v - largest - Foundation.log(sum))) <= 1e-5, "log-softmax row \(r) [\(j)]")
            }
        }
    }

    @Test func softmaxOfARowWithNaNOrOnlyMinusInfinityIsNaN() {
        let x: [Float] = [1, .nan, 2, -.infinity, -.infinity, -.infinity]
        var y = [Float](repeating: 0, count: 6)
        ck_softmax_rows(x, &y, 2, 3, 0)
        #expect(y.allSatisfy { $0.isNaN })
        // A row with −∞ among finite values: that entry is 0.
        let masked: [Float] = [0, -.infinity, 0]
        var z = [Float](repeating: 1, count: 3)
        ck_softmax_rows(masked, &z, 1, 3, 0)
        #expect(z == [0.5, 0, 0.5])
    }

    @Test(arguments: lengths) func rowMeans(length: Int) {
        let rows = 5
        let x = Self.values(rows * length, spread: 1000, seed: length)
        var means = [Float](repeating: 0, count: rows)
        ck_row_means(x, rows, length, &means)
        for r in 0..<rows {
            let expected = x[r * length..<(r + 1) * length].reduce(0.0) { $0 + Double($1) } / Double(length)
            #expect(abs(Double(means[r]) - expected) <= 1e-4 * max(1, abs(expected)), "row \(r)")
        }
    }

    @Test(arguments: lengths) func layerNormalisation(length: Int) {
        let rows = 4
        // An offset far larger than the spread: the two-pass variance keeps it exact.
        let x = Self.values(rows * length, spread: 2, seed: length).map { $0 + 1000 }
        let scale = Self.values(length, spread: 1.5, seed: 1), bias = Self.values(length, spread: 0.5, seed: 2)
        let epsilon: Float = 1e-5
        for rms in [0, 1] as [Int32] {
            var y = [Float](repeating: 0, count: x.count)
            var means = [Float](repeating: 0, count: rows), inverses = means
            ck_layer_norm_rows(x, &y, rows, length, scale, rms == 1 ? nil : bias, epsilon, rms, &means, &inverses)
            for r in 0..<rows {
                let row = x[r * length..<(r + 1) * length].map(Double.init)
                let mean = rms == 1 ? 0 : row.reduce(0, +) / Double(length)
                let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(length)
                let inverse = 1 / (variance + Double(epsilon)).squareRoot()
                #expect(Self.relativeError(inverses[r], inverse) <= 1e-6, "rms \(rms) row \(r) inverse")
                #expect(abs(Double(means[r]) - mean) <= 1e-4, "rms \(rms) row \(r) mean")
                for j in 0..<length {
                    let expected = (row[j] - mean) * inverse * Double(scale[j]) + (rms == 1 ? 0 : Double(bias[j]))
                    // float32 x − mean loses what float32 x cannot hold of 1000 + x: about 6e-5 of the deviation.
                    #expect(abs(Double(y[r * length + j]) - expected) <= 1e-4 * max(1, abs(expected)) * (rms == 1 ? 1 : 2),
                            "rms \(rms) row \(r) [\(j)]")
                }
            }
        }
    }
}
