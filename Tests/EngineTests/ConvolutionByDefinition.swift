import Foundation

/// A 2-D convolution computed by its definition in float64, to check the
/// engine's fast paths against: for each output, the bias and every tap's
/// product, then the residual, the clamp and SiLU, in the epilogue's order.
struct ConvolutionByDefinition {
    var images = 1
    var channels: Int
    var outChannels: Int
    var height: Int
    var width: Int
    var kernel = [3, 3], strides = [1, 1], dilations = [1, 1]
    /// top, left, bottom, right
    var pads = [1, 1, 1, 1]

    var outputHeight: Int { (height + pads[0] + pads[2] - dilations[0] * (kernel[0] - 1) - 1) / strides[0] + 1 }
    var outputWidth: Int { (width + pads[1] + pads[3] - dilations[1] * (kernel[1] - 1) - 1) / strides[1] + 1 }

    /// The largest error of `y` against the definition, relative to the sum of
    /// its terms' magnitudes: float32 rounding stays near 1e-6, while a wrong
    /// tap, pixel or channel is off by a whole term.
    func worstError(_ y: UnsafeMutableBufferPointer<Float>, x: [Float], weights: [Float], bias: [Float],
                    residual: [Float]?, clamp: (low: Float, high: Float)?, silu: Bool = false) -> Double {
        let (oh, ow, kh, kw) = (outputHeight, outputWidth, kernel[0], kernel[1])
        var worst = 0.0
        for n in 0..<images {
            for m in 0..<outChannels {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum = Double(bias[m]), magnitude = abs(Double(bias[m]))
                        for ch in 0..<channels {
                            for ky in 0..<kh {
                                let iy = oy * strides[0] + ky * dilations[0] - pads[0]
                                guard iy >= 0 && iy < height else { continue }
                                for kx in 0..<kw {
                                    let ix = ox * strides[1] + kx * dilations[1] - pads[1]
                                    guard ix >= 0 && ix < width else { continue }
                                    let product = Double(x[((n * channels + ch) * height + iy) * width + ix])
                                        * Double(weights[((m * channels + ch) * kh + ky) * kw + kx])
                                    sum += product
                                    magnitude += abs(product)
                                }
                            }
                        }
                        let at = ((n * outChannels + m) * oh + oy) * ow + ox
                        if let residual {
                            sum += Double(residual[at])
                            magnitude += abs(Double(residual[at]))
                        }
                        if let clamp { sum = min(max(sum, Double(clamp.low)), Double(clamp.high)) }
                        if silu { sum /= 1 + exp(-sum) }
                        worst = max(worst, abs(Double(y[at]) - sum) / magnitude)
                    }
                }
            }
        }
        return worst
    }
}
