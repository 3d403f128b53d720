internal import CKernels
@testable import Engine
import ModelCore
import Testing

/// The direct convolution on small maps (`ConvBlocked`) against the
/// convolution by its definition, in float64: channel counts that are not
/// whole blocks of 16 input or 32 output channels, rows in pairs with an odd
/// one left, rows split into runs, strides, dilations, uneven pads, two
/// images, and the epilogue (bias, residual, clamp, SiLU).
struct ConvBlockedTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var shape: ConvolutionByDefinition
        var residual = false, clamp = false, silu = false

        init(images: Int = 1, channels: Int, outChannels: Int, height: Int, width: Int, kernel: [Int] = [3, 3],
             strides: [Int] = [1, 1], dilations: [Int] = [1, 1], pads: [Int] = [1, 1, 1, 1],
             residual: Bool = false, clamp: Bool = false, silu: Bool = false) {
            shape = ConvolutionByDefinition(images: images, channels: channels, outChannels: outChannels, height: height, width: width,
                                            kernel: kernel, strides: strides, dilations: dilations, pads: pads)
            (self.residual, self.clamp, self.silu) = (residual, clamp, silu)
        }

        var testDescription: String {
            "\(shape.images)×\(shape.channels)×\(shape.height)×\(shape.width) → \(shape.outChannels), kernel \(shape.kernel), "
                + "strides \(shape.strides), dilations \(shape.dilations), pads \(shape.pads)"
                + (residual ? ", residual" : "") + (clamp ? ", clamp" : "") + (silu ? ", SiLU" : "")
        }
    }

    static let cases: [Case] = [
        // ResNet's last stage, narrowed: 7×7, rows in pairs and one left.
        Case(channels: 40, outChannels: 48, height: 7, width: 7),
        Case(images: 2, channels: 16, outChannels: 32, height: 7, width: 7, residual: true, clamp: true),
        // Stride 2 onto 7×7, uneven pads.
        Case(channels: 33, outChannels: 20, height: 14, width: 13, strides: [2, 2], pads: [1, 0, 1, 1]),
        // Pointwise on 9×9: one run per row.
        Case(images: 2, channels: 70, outChannels: 64, height: 9, width: 9, kernel: [1, 1], pads: [0, 0, 0, 0], silu: true),
        // A 5×5 window on 10×10, and a dilated one on 8×8.
        Case(channels: 17, outChannels: 33, height: 10, width: 10, kernel: [5, 5], pads: [2, 2, 2, 2], clamp: true),
        Case(channels: 24, outChannels: 16, height: 8, width: 8, dilations: [2, 2], pads: [2, 2, 2, 2], residual: true),
        // 13×13 and 14×14 windows: rows in runs of 13 and 14.
        Case(channels: 48, outChannels: 64, height: 13, width: 13, clamp: true),
        Case(channels: 32, outChannels: 32, height: 14, width: 14, residual: true, silu: true),
        // One row of 60 (a 1-D convolution's form): five runs of 12; and a row stride of 3.
        Case(channels: 20, outChannels: 40, height: 1, width: 60, kernel: [1, 3], pads: [0, 1, 0, 1]),
        Case(channels: 16, outChannels: 16, height: 20, width: 7, strides: [3, 1], pads: [0, 1, 0, 1], clamp: true),
    ]

    @Test(arguments: cases)
    func matchesTheDefinition(_ c: Case) throws {
        let d = c.shape
        let (oh, ow) = (d.outputHeight, d.outputWidth)
        let xs = WinogradConvolutionTests.values(d.images * d.channels * d.height * d.width, seed: 11)
        let ws = WinogradConvolutionTests.values(d.outChannels * d.channels * d.kernel[0] * d.kernel[1], seed: 12)
        let bias = WinogradConvolutionTests.values(d.outChannels, seed: 13)
        let added = WinogradConvolutionTests.values(d.images * d.outChannels * oh * ow, seed: 14)
        var window = Window(kernel: d.kernel, strides: d.strides, pads: d.pads)
        window.dilations = d.dilations
        #expect(ConvBlocked.applies(window, group: 1, channels: d.channels, outChannels: d.outChannels, weights: ws.count,
                                    outputHeight: oh, outputWidth: ow))
        let x = try EngineTensor(floats: xs, shape: [d.images, d.channels, d.height, d.width])
        let w = try EngineTensor(floats: ws, shape: [d.outChannels, d.channels] + d.kernel)
        let output = try EngineTensor(dtype: .float, shape: [d.images, d.outChannels, oh, ow])
        let clamp: (low: Float, high: Float)? = c.clamp ? (-0.5, 0.75) : nil
        let geometry = WindowGeometry(window, pads: d.pads, height: d.height, width: d.width, outputWidth: ow)
        try bias.withUnsafeBufferPointer { biasPointer throws in
            try added.withUnsafeBufferPointer { addedPointer throws in
                let epilogue = ConvKernel.Epilogue(bias: biasPointer.baseAddress, residual: c.residual ? addedPointer.baseAddress : nil,
                                                   clamp: clamp, silu: c.silu)
                try ConvBlocked.run(x, try ConvBlockedWeights().packed(w), output, geometry, epilogue, ExecutionContext(threads: 2))
            }
        }
        let worst = d.worstError(output.floats, x: xs, weights: ws, bias: bias, residual: c.residual ? added : nil, clamp: clamp, silu: c.silu)
        #expect(worst < 1e-5, "largest error relative to the terms' magnitude \(worst)")
    }

    /// Maps of 14 to 100 output pixels, and up to 196 for windows of more than
    /// one tap in layers of at most 2²⁰ weights; on AVX-512, one group, a column
    /// stride of 1 or 2; the GEMM (or Winograd) for the rest.
    @Test func theRuleFollowsTheMap() {
        let window = Window(kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1])
        let pointwise = Window(kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0])
        func applies(_ size: Int, window: Window = window, group: Int = 1, width: Int? = nil, weights: Int = 64 * 64 * 9) -> Bool {
            ConvBlocked.applies(window, group: group, channels: 64, outChannels: 64, weights: weights, outputHeight: size,
                                outputWidth: width ?? size)
        }
        guard ck_sgemm_vector_floats() == 16 else {
            #expect(!applies(7))
            return
        }
        #expect(applies(7) && applies(10) && applies(4) && applies(1, width: 14) && applies(14))
        #expect(applies(7, window: pointwise) && applies(10, window: pointwise) && !applies(14, window: pointwise))
        #expect(applies(7, weights: 512 * 512 * 9) && !applies(14, weights: 512 * 512 * 9) && applies(14, weights: 1 << 20))
        #expect(!applies(15) && !applies(3) && !applies(1) && !applies(7, group: 2))
        #expect(applies(7, window: Window(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])))
        #expect(!applies(7, window: Window(kernel: [3, 3], strides: [1, 3], pads: [1, 1, 1, 1])))
        #expect(!applies(7, window: Window(kernel: [3], strides: [1], pads: [1, 1])))
    }
}
