internal import CKernels
import ModelCore

/// A 3×3 convolution of stride 1 by Winograd's F(m×m, 3×3) (CKernels'
/// winograd.c), in output tiles of m = 4, or of m = 2 on maps too small for
/// enough 4×4 tiles (ResNets' 14×14 layers): the weights, the input and the
/// products are transformed so that (m + 2)² matrix products replace the
/// 3×3 windows, 4× fewer multiplications for m = 4 and 2.25× for m = 2. Per
/// image and block of output channels, in chunks of tile rows: transform
/// the input chunk, run the products, transform back with the epilogue.
///
/// The weights are transformed on each run, not kept: the transformed copy
/// is 4× the weights (235 MB for VGG-16), and the transform costs a few
/// percent of a run (5% of VGG-16's). They are transformed in blocks of
/// output channels, so that no more than `blockBytes` of them exist at once
/// (VGG-16's 512×512 layers would take 38 MB). With several blocks, the
/// input is transformed again for each one, unless the whole image is one
/// chunk (small maps, which is where layers have many channels): then it is
/// transformed and packed for the products once.
enum ConvWinograd {
    /// Bytes of transformed input and products per chunk: the chunk stays in
    /// the level-2 cache between its transform, its products and the
    /// transform back (VGG-16's conv1_2 took 20 ms in chunks of 8 MiB, 13 ms
    /// in chunks of 1 MiB). Bytes of transformed weights per block: whole
    /// up to about 240×240 channels. A 256×256 layer takes two blocks, and on a
    /// 56×56 map, where its input is transformed again for the second, it is
    /// 17% slower than whole; but 16 MiB blocks find no free memory in the
    /// activation pool at VGG-16's 512-channel layers, and take its peak
    /// memory past weights + 2 × its largest live activations (docs/BENCHMARKS.md).
    static let chunkBytes = 1 << 20, blockBytes = 8 << 20
    /// The fewest tiles a chunk holds: the products' width, which must span
    /// a few of the GEMM's register tiles to run at its speed.
    static let minimumTiles = 48

    /// The output tile, 4 or 2, for a convolution Winograd computes and
    /// gains on; nil for the others. It takes a 3×3 window of stride and
    /// dilation 1, one group, and pads of at most 2 (larger ones only add
    /// zero tiles). The input's transform costs per tile what the
    /// multiplications it saves are worth only with enough input channels,
    /// and the products need enough tiles to be wide. Measured against the
    /// banded GEMM (2 threads): 4×4 tiles gain with 32 input channels on a
    /// 54×54 map (196 tiles) but lose on a 27×27 one (49 tiles) and with 16
    /// channels; 2×2 tiles on a 14×14 map gain with 128 input channels
    /// (DenseNet's, 32 out) and 256, and lose with 64.
    static func tile(_ window: Window, pads: [Int], group: Int, channels: Int, outChannels: Int,
                     outputHeight: Int, outputWidth: Int) -> Int? {
        guard window.kernel == [3, 3], window.strides == [1, 1], window.dilations == [1, 1], group == 1,
              pads.allSatisfy({ $0 <= 2 }), outChannels >= 16 else { return nil }
        func tiles(_ tile: Int) -> Int { ((outputHeight + tile - 1) / tile) * ((outputWidth + tile - 1) / tile) }
        if tiles(4) >= 49 && channels >= (tiles(4) >= 196 ? 32 : 64) { return 4 }
        if tiles(2) >= 49 && channels >= 128 { return 2 }
        return nil
    }

    static func run(_ x: EngineTensor, _ w: EngineTensor, _ output: EngineTensor, tile: Int, pads: [Int],
                    _ epilogue: ConvKernel.Epilogue, _ context: ExecutionContext,
                    chunkBytes: Int = chunkBytes, blockBytes: Int = blockBytes) throws(ModelError) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, oh, ow) = (output.shape[1], output.shape[2], output.shape[3])
        let tilesH = (oh + tile - 1) / tile, tilesW = (ow + tile - 1) / tile, points = (tile + 2) * (tile + 2)
        let floatBytes = MemoryLayout<Float>.size
        // Output channels per block of weights, a multiple of the GEMM's tile height.
        let step = ck_sgemm_row_step()
        let block = min(m, max(step, blockBytes / (points * c * floatBytes) / step * step))
        let fitting = chunkBytes / max(points * (c + block) * tilesW * floatBytes, 1)
        let chunkRows = min(tilesH, max(1, fitting, (minimumTiles + tilesW - 1) / tilesW))
        let chunkTiles = chunkRows * tilesW
        let blocks = Array(stride(from: 0, to: m, by: block))
        // The whole image in one chunk, for several blocks: its transformed
        // input is packed once per point, and every block's products read it.
        let packedFloats = ck_sgemm_packed_floats(c, chunkTiles)
        let packsOnce = chunkRows == tilesH && blocks.count > 1 && packedFloats > 0
        let packed = packsOnce ? try EngineTensor(dtype: .float, shape: [points, packedFloats]) : nil

        let u = try EngineTensor(dtype: .float, shape: [points, block, c])
        let v = try EngineTensor(dtype: .float, shape: [points, c, chunkTiles])
        let products = try EngineTensor(dtype: .float, shape: [points, block, chunkTiles])
        let (uBase, vBase, pBase) = (u.floats.baseAddress!, v.floats.baseAddress!, products.floats.baseAddress!)
        let (clamp, low, high) = epilogue.clamp.map { (Int32(1), $0.low, $0.high) } ?? (0, 0, 0)
        let rowFloats = ck_winograd_row_floats(tile, tilesW), outputFloats = ck_winograd_output_floats(tile, tilesW)
        let (xBase, wBase, yBase) = (UnsafePointer(x.floats.baseAddress!), UnsafePointer(w.floats.baseAddress!), output.floats.baseAddress!)
        let plane = oh * ow

        func transformInput(_ source: UnsafePointer<Float>, rows first: Int, _ last: Int) {
            context.parallelRanges(c) { channels in
                let rows = UnsafeMutablePointer<Float>.allocate(capacity: rowFloats)
                defer { rows.deallocate() }
                ck_winograd_input(tile, source, h, wd, pads[0], pads[1], tilesW, first, last,
                                  channels.lowerBound, channels.upperBound, c, vBase, rows)
            }
        }

        for image in 0..<n {
            let source = xBase + image * c * h * wd
            if let packed {
                transformInput(source, rows: 0, tilesH)
                let packedBase = packed.floats.baseAddress!
                context.parallel(points) { point in
                    ck_sgemm_pack(0, c, chunkTiles, vBase + point * c * chunkTiles, chunkTiles, packedBase + point * packedFloats)
                }
            }
            for m0 in blocks {
                let count = min(block, m - m0)
                // One block is transformed once for every image.
                if image == 0 || blocks.count > 1 {
                    context.parallelRanges(count) { range in
                        ck_winograd_weights(tile, wBase + m0 * c * 9, count, c, range.lowerBound, range.upperBound, uBase)
                    }
                }
                let bias = epilogue.bias.map { $0 + m0 }
                let target = yBase + (image * m + m0) * plane
                let residual = epilogue.residual.map { $0 + (image * m + m0) * plane }
                for first in stride(from: 0, to: tilesH, by: chunkRows) {
                    let last = min(tilesH, first + chunkRows), tiles = (last - first) * tilesW
                    if let packed {
                        let packedBase = UnsafePointer(packed.floats.baseAddress!)
                        context.parallel(points) { point in
                            ck_sgemm_packed(count, tiles, c, 1, uBase + point * count * c, c, packedBase + point * packedFloats,
                                            0, pBase + point * count * tiles, tiles, 0, tiles)
                        }
                    } else {
                        transformInput(source, rows: first, last)
                        context.parallel(points) { point in
                            ck_sgemm(0, 0, count, tiles, c, 1, uBase + point * count * c, c, vBase + point * c * tiles, tiles,
                                     0, pBase + point * count * tiles, tiles)
                        }
                    }
                    context.parallelRanges(count) { channels in
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: outputFloats)
                        defer { scratch.deallocate() }
                        ck_winograd_output(tile, pBase, count, tilesW, first, last, oh, ow, bias, residual, clamp, low, high,
                                           channels.lowerBound, channels.upperBound, target, scratch)
                    }
                }
            }
        }
    }
}
