@testable import Engine
import ModelCore
import Testing

/// Winograd F(4×4, 3×3) and F(2×2, 3×3) against the convolution by its
/// definition, in float64: sizes that are not multiples of the tiles, the
/// pads, two images, the epilogue (bias, residual, clamp), and chunks and
/// blocks small enough that a layer takes several of each.
struct WinogradConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var images = 1
        var channels: Int
        var outChannels: Int
        var height: Int
        var width: Int
        var pads = [1, 1, 1, 1]
        var residual = false, clamp = false
        /// The output tile computed in.
        var tile = 4
        /// Bytes per chunk and per block of weights (the engine's own when nil).
        var chunkBytes: Int? = nil, blockBytes: Int? = nil

        var testDescription: String {
            "\(images)×\(channels)×\(height)×\(width) → \(outChannels), pads \(pads), \(tile)×\(tile) tiles" + (residual ? ", residual" : "")
                + (clamp ? ", clamp" : "") + (chunkBytes.map { ", chunks of \($0) B" } ?? "") + (blockBytes.map { ", blocks of \($0) B" } ?? "")
        }
    }

    static let cases: [Case] = [
        Case(channels: 16, outChannels: 16, height: 28, width: 28),
        Case(channels: 17, outChannels: 24, height: 30, width: 29, pads: [0, 0, 0, 0]),
        Case(channels: 16, outChannels: 20, height: 27, width: 31, pads: [2, 1, 0, 2]),
        Case(images: 2, channels: 32, outChannels: 16, height: 33, width: 26, residual: true, clamp: true),
        // Several chunks of tile rows and several blocks of output channels.
        Case(images: 2, channels: 24, outChannels: 40, height: 34, width: 30, residual: true, clamp: true,
             chunkBytes: 36 * 64 * 8 * 4 * 2, blockBytes: 36 * 24 * 16 * 4),
        // The whole image in one chunk and several blocks: the input is packed once for all of them.
        Case(images: 2, channels: 24, outChannels: 40, height: 28, width: 28, residual: true, clamp: true,
             blockBytes: 36 * 24 * 16 * 4),
        // Maps too small for 49 tiles of 4×4: 2×2 tiles, with odd sizes, pads, and several chunks and blocks.
        Case(channels: 16, outChannels: 16, height: 14, width: 14, tile: 2),
        Case(channels: 17, outChannels: 24, height: 17, width: 15, pads: [0, 0, 0, 0], tile: 2),
        Case(images: 2, channels: 24, outChannels: 40, height: 15, width: 13, pads: [2, 1, 0, 2], residual: true, clamp: true, tile: 2,
             chunkBytes: 16 * 64 * 7 * 4 * 2, blockBytes: 16 * 24 * 16 * 4),
    ]

    /// Deterministic values in [−1, 1).
    static func values(_ count: Int, seed: Int) -> [Float] {
        var state = UInt64(truncatingIfNeeded: seed) &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }

    @Test(arguments: cases)
    func matchesTheDefinition(_ c: Case) throws {
        let oh = c.height + c.pads[0] + c.pads[2] - 2, ow = c.width + c.pads[1] + c.pads[3] - 2
        let xs = Self.values(c.images * c.channels * c.height * c.width, seed: 1)
        let ws = Self.values(c.outChannels * c.channels * 9, seed: 2)
        let bias = Self.values(c.outChannels, seed: 3)
        let added = Self.values(c.images * c.outChannels * oh * ow, seed: 4)
        let x = try EngineTensor(floats: xs, shape: [c.images, c.channels, c.height, c.width])
        let w = try EngineTensor(floats: ws, shape: [c.outChannels, c.channels, 3, 3])
        let output = try EngineTensor(dtype: .float, shape: [c.images, c.outChannels, oh, ow])
        let (low, high): (Float, Float) = (-0.5, 0.75)
        try bias.withUnsafeBufferPointer { biasPointer throws in
            try added.withUnsafeBufferPointer { addedPointer throws in
                let epilogue = ConvKernel.Epilogue(bias: biasPointer.baseAddress, residual: c.residual ? addedPointer.baseAddress : nil,
                                                   clamp: c.clamp ? (low, high) : nil, silu: false)
                try ConvWinograd.run(x, w, output, tile: c.tile, pads: c.pads, epilogue, ExecutionContext(threads: 2),
                                     chunkBytes: c.chunkBytes ?? ConvWinograd.chunkBytes, blockBytes: c.blockBytes ?? ConvWinograd.blockBytes)
            }
        }
        let definition = ConvolutionByDefinition(images: c.images, channels: c.channels, outChannels: c.outChannels,
                                                 height: c.height, width: c.width, pads: c.pads)
        let worst = definition.worstError(output.floats, x: xs, weights: ws, bias: bias, residual: c.residual ? added : nil,
                                          clamp: c.clamp ? (low, high) : nil)
        // float32 rounding, grown by the transforms (whose entries reach 8 and
        // 1/24), stays near 1e-6; a wrong tap, tile or channel is off by a whole term.
        #expect(worst < 1e-5, "largest error relative to the terms' magnitude \(worst)")
    }

    /// 4×4 tiles where a map has 49 of them and enough input channels (32
    /// on large maps, 64 on small ones), 2×2 tiles on 14×14 maps with 128;
    /// the GEMM for the rest, and for strided, grouped and larger windows.
    @Test func theTileFollowsTheMapAndTheChannels() {
        let window = Window(kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1])
        func tile(_ channels: Int, _ outChannels: Int, _ size: Int, window: Window = window, group: Int = 1) -> Int? {
            ConvWinograd.tile(window, pads: window.pads, group: group, channels: channels, outChannels: outChannels,
                              outputHeight: size, outputWidth: size)
        }
        #expect(tile(64, 64, 224) == 4 && tile(32, 128, 54) == 4 && tile(64, 256, 27) == 4 && tile(128, 32, 28) == 4)
        #expect(tile(256, 256, 14) == 2 && tile(128, 32, 14) == 2)
        #expect(tile(3, 64, 224) == nil && tile(16, 64, 54) == nil && tile(32, 128, 27) == nil && tile(64, 256, 13) == nil)
        #expect(tile(512, 512, 7) == nil && tile(64, 8, 56) == nil)
        #expect(tile(64, 64, 56, group: 2) == nil)
        #expect(tile(64, 64, 56, window: Window(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])) == nil)
        #expect(tile(64, 64, 56, window: Window(kernel: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2])) == nil)
    }
}
