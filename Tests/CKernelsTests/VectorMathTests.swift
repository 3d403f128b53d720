import CKernels
import Foundation
import Testing

/// The vectorised exponential, sigmoid, tanh, erf and SiLU against float64 references:
/// the largest error in float32 ulps over a dense sweep, and the special values.
@Suite struct VectorMathTests {
    /// Every 1/64 from −110 to 110, many points near 0, and the points where exp and tanh switch forms.
    static let inputs: [Float] = (-7040...7040).map { Float($0) / 64 } + (-200...200).map { Float($0) / 3200 }
        + [88.3, 88.31, 88.7, 88.72, 88.73, -87.0, -87.01, -87.3, -87.4, -95, -103.9, -104, 1e-30, -1e-30, 0.3, -0.3, 0.29999]

    /// How many float32 steps `value` lies from `reference` (rounded to float32).
    static func ulps(_ value: Float, _ reference: Double) -> Int {
        let target = Float(reference)
        if value == target { return 0 }
        if !value.isFinite || !target.isFinite { return Int.max }
        let step = max(target.ulp, Float.leastNormalMagnitude)
        return Int((abs(Double(value) - Double(target)) / Double(step)).rounded(.up))
    }

    static func worst(_ function: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                      _ reference: (Double) -> Double) -> Int {
        var output = [Float](repeating: 0, count: inputs.count)
        inputs.withUnsafeBufferPointer { x in output.withUnsafeMutableBufferPointer { function(x.baseAddress!, $0.baseAddress!, x.count) } }
        return zip(inputs, output).map { ulps($1, reference(Double($0))) }.max() ?? 0
    }

    @Test func withinTwoUlpsOfTheExactValues() {
        #expect(Self.worst({ ck_exp_f32($0, $1, $2) }, { Foundation.exp($0) }) <= 2)
        #expect(Self.worst({ ck_sigmoid_f32($0, $1, $2) }, { 1 / (1 + Foundation.exp(-$0)) }) <= 2)
        #expect(Self.worst({ ck_tanh_f32($0, $1, $2) }, { Foundation.tanh($0) }) <= 2)
        // The product of a sigmoid within 2 ulp and x, rounded once more.
        #expect(Self.worst({ ck_silu_f32($0, $1, $2) }, { $0 / (1 + Foundation.exp(-$0)) }) <= 3)
        #expect(Self.worst({ ck_erf_f32($0, $1, $2) }, { Foundation.erf($0) }) <= 3)
        // GELU: where 1 + erf cancels (x far below 0) erf's absolute error of a few
        // 1e-8 is all that is left, so the bound is absolute there and relative elsewhere.
        var gelu = [Float](repeating: 0, count: Self.inputs.count)
        ck_gelu_f32(Self.inputs, &gelu, Self.inputs.count)
        for (x, value) in zip(Self.inputs, gelu) {
            let exact = 0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot()))
            #expect(abs(Double(value) - exact) <= 4e-7 * max(abs(exact), abs(Double(x)) * 0.25), "GELU(\(x))")
        }
        ck_gelu_tanh_f32(Self.inputs, &gelu, Self.inputs.count)
        for (x, value) in zip(Self.inputs, gelu) {
            let v = Double(x)
            let exact = 0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
            #expect(abs(Double(value) - exact) <= 4e-7 * max(abs(exact), abs(v) * 0.25), "GELU tanh form (\(x))")
        }
    }

    /// SiLU in place gives what it gives into another array, at every length
    /// around a vector's (the last partial vector is read and written under a mask).
    @Test func siluInPlaceMatches() {
        for count in 0...40 {
            let x = (0..<count).map { Float($0) * 0.37 - 7 }
            var copied = [Float](repeating: 0, count: count), inPlace = x
            ck_silu_f32(x, &copied, count)
            inPlace.withUnsafeMutableBufferPointer { ck_silu_in_place_f32($0.baseAddress, count) }
            #expect(inPlace == copied, "\(count) floats")
        }
    }

    @Test func specialValues() {
        let x: [Float] = [.nan, .infinity, -.infinity, 89, -105, 0, -0.0]
        var y = [Float](repeating: 1, count: x.count)
        ck_exp_f32(x, &y, x.count)
        #expect(y[0].isNaN && y[1] == .infinity && y[2] == 0 && y[3] == .infinity && y[4] == 0 && y[5] == 1 && y[6] == 1)
        ck_sigmoid_f32(x, &y, x.count)
        #expect(y[0].isNaN && y[1] == 1 && y[2] == 0 && y[5] == 0.5)
        ck_silu_f32(x, &y, x.count)
        #expect(y[0].isNaN && y[1] == .infinity && y[2].isNaN && y[5] == 0)
        ck_tanh_f32(x, &y, x.count)
        #expect(y[0].isNaN && y[1] == 1 && y[2] == -1 && y[5] == 0 && y[6].sign == .minus)
        ck_erf_f32(x, &y, x.count)
        #expect(y[0].isNaN && y[1] == 1 && y[2] == -1 && y[5] == 0 && y[6].sign == .minus)
    }
}
