internal import CKernels
import ModelCore
import Synchronization

/// A 2-D convolution on a small map computed directly, vectorised along the
/// output channels (CKernels' conv_blocked.c), where the GEMM's tiles, 48
/// pixels wide, would leave lanes idle: a 7×7 map is 49 columns, one full
/// tile and one of a single column, which does one multiply-add per
/// broadcast. ResNet-18's 3×3 layers of its last stage took 1.37 ms each
/// that way and 0.98–1.09 ms directly (512 channels, 2 threads).
///
/// The weights are packed once, on the first run that takes this path, and
/// kept: packing on every run would cost about half the product at 7×7,
/// where each weight serves only 49 pixels. The packed copy adds the
/// layer's weights to the plan's memory (ResNet-50: 60 MB for its last
/// stage); the limits below keep every layer of VGG-16, whose peak memory
/// the engine holds to its weights and two sets of activations, off this path.
enum ConvBlocked {
    /// Output maps of up to this many pixels: at most two of the GEMM's
    /// tiles, one partial (10×10 and below)...
    static let pixels = 14...100
    /// ...and up to 14×14 for windows of more than one tap, which the GEMM
    /// reaches through im2col or Winograd F(2×2), in layers of at most
    /// `windowedWeights` weights. GoogLeNet's 3×3 layers there took 0.31–0.62
    /// ms this way against 0.37–0.81; its pointwise layers, which the GEMM
    /// reads in place, were faster by the GEMM (0.12 against 0.15 ms;
    /// MobileNetV2 18% slower in all). Larger layers keep to the paths that
    /// hold no packed copy: VGG-16's 512-channel layers at 14×14 would gain
    /// 0.6 ms of 3.8 each for 9.4 MB each, and its peak memory is kept to its
    /// weights and two sets of activations.
    static let windowedPixels = 14...196, windowedWeights = 1 << 20

    /// Whether the direct path serves a convolution of this shape: AVX-512,
    /// whose 32 vector registers hold a run's sums; one group; a column
    /// stride of 1 or 2 (the kernel's broadcasts are at constant offsets).
    /// At fewer than 14 pixels (one run) the GEMM's matrix–vector paths do as well.
    static func applies(_ window: Window, group: Int, channels: Int, outChannels: Int, weights: Int,
                        outputHeight: Int, outputWidth: Int) -> Bool {
        let (mapPixels, overflow) = outputHeight.multipliedReportingOverflow(by: outputWidth)
        guard ck_sgemm_vector_floats() == 16, group == 1, channels > 0, outChannels > 0, !overflow,
              window.kernel.count == 2, window.kernel.allSatisfy({ $0 > 0 }),
              window.strides[1] == 1 || window.strides[1] == 2 else { return false }
        return pixels.contains(mapPixels)
            || (window.kernel.contains { $0 > 1 } && weights <= windowedWeights && windowedPixels.contains(mapPixels))
    }

    /// `output` = the convolution of `x` (NCHW) with the packed weights,
    /// then the epilogue. `geometry` is the window over one plane.
    static func run(_ x: EngineTensor, _ weights: EngineTensor, _ output: EngineTensor, _ geometry: WindowGeometry,
                    _ epilogue: ConvKernel.Epilogue, _ context: ExecutionContext) throws(ModelError) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, oh, ow) = (output.shape[1], output.shape[2], output.shape[3])
        let plane = geometry.plane(outputHeight: oh, clamp: epilogue.clamp)
        let inputFloats = withUnsafePointer(to: plane) { ck_conv_blocked_input_floats($0, c) }
        guard inputFloats > 0 else { throw ModelError(.limit, "a convolution's blocked input is too large") }
        let blocked = try EngineTensor(dtype: .float, shape: [inputFloats])
        let (xBase, wBase, yBase, bBase) = (x.floats.baseAddress!, UnsafePointer(weights.floats.baseAddress!),
                                            output.floats.baseAddress!, blocked.floats.baseAddress!)
        let blocks = (c + 15) / 16, groups = (m + 31) / 32
        // Each thread takes a run of groups, so that it can request the next
        // group's weights while it computes one; bands of rows split the
        // groups where there are too few to give every thread two
        // (DenseNet's 32-channel layers).
        let rowStep = withUnsafePointer(to: plane) { ck_conv_blocked_row_step($0) }
        let rowUnits = (oh + rowStep - 1) / rowStep
        let bands = min(rowUnits, max(1, (2 * context.threads + groups - 1) / groups))
        let runsOfGroups = bands == 1 ? min(groups, context.threads) : groups
        withExtendedLifetime(blocked) {
            withUnsafePointer(to: plane) { plane in
                for image in 0..<n {
                    let source = UnsafePointer(xBase + image * c * h * wd), target = yBase + image * m * oh * ow
                    let residual = epilogue.residual.map { $0 + image * m * oh * ow }
                    context.parallelRanges(blocks) { range in
                        ck_conv_blocked_input(plane, source, c, range.lowerBound, range.upperBound, bBase)
                    }
                    context.parallel(runsOfGroups * bands) { item in
                        let (run, band) = item.quotientAndRemainder(dividingBy: bands)
                        let groupRange = run * groups / runsOfGroups..<(run + 1) * groups / runsOfGroups
                        let first = band * rowUnits / bands * rowStep, last = min(oh, (band + 1) * rowUnits / bands * rowStep)
                        ck_conv_blocked_rows(plane, bBase, c, wBase, m, groupRange.lowerBound, groupRange.upperBound, first, last,
                                             epilogue.bias, residual, target)
                        if epilogue.silu {
                            for channel in groupRange.lowerBound * 32..<min(m, groupRange.upperBound * 32) {
                                ck_silu_in_place_f32(target + channel * oh * ow + first * ow, (last - first) * ow)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A Conv's constant float32 weights in the direct path's packed layout,
/// packed the first time a run takes that path.
final class ConvBlockedWeights: Sendable {
    /// nil until a run asks.
    private let state = Mutex<EngineTensor?>(nil)

    /// The packed form of `source`, the same constant weights on every call.
    func packed(_ source: EngineTensor) throws(ModelError) -> EngineTensor {
        try state.withLock { state throws(ModelError) -> EngineTensor in
            if let known = state { return known }
            let (m, c) = (source.shape[0], source.shape[1])
            let taps = m == 0 || c == 0 ? 0 : source.count / m / c
            let floats = ck_conv_blocked_weight_floats(m, c, taps)
            guard floats > 0 else { throw ModelError(.limit, "a convolution's packed weights are too large") }
            let packed = try EngineTensor(dtype: .float, shape: [floats])
            ck_conv_blocked_weights(source.floats.baseAddress!, m, c, taps, packed.floats.baseAddress!)
            state = packed
            return packed
        }
    }
}
