internal import CKernels
import ModelCore

/// MaxPool, AveragePool and LpPool. Float32 1-D and 2-D MaxPool and
/// AveragePool without indices run here, vectorised along the rows (1-D as
/// 2-D over a height of 1); every other form runs in `PoolWindows`.
struct PoolKernel: Kernel {
    let schema: WindowPool
    let countPadding: Bool
    /// Whether MaxPool's second output, the indices, is wanted.
    let withIndices: Bool

    init(_ schema: WindowPool, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
        countPadding = schema.countIncludePad
        withIndices = setup.node.outputs.count > 1 && !setup.node.outputs[1].isEmpty
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var x = try requiredInput(inputs, 0, "input X")
        var window = schema.window
        let isMax = schema.op == "MaxPool"
        guard x.dtype == .float, isMax || schema.op == "AveragePool", !withIndices,
              x.shape.count == window.kernel.count + 2, x.shape.count == 3 || x.shape.count == 4 else {
            let reduction: PoolWindows.Reduction = isMax ? .max : schema.op == "AveragePool"
                ? .average(countingPadding: countPadding) : .lp(Double(schema.p))
            let general = PoolWindows(x: x, reduction: reduction, window: window, withIndices: withIndices,
                                      columnMajor: schema.columnMajorIndices, context: context)
            return try ElementTypes.visit(x.dtype, general, schema.op)
        }
        let oneDimensional = x.shape.count == 3
        if oneDimensional {
            x = x.reshaped([x.shape[0], x.shape[1], 1, x.shape[2]])
            window = window.planar
        }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let spatial = window.outputSpatial([.known(h), .known(w)])
        guard let oh = spatial[0].value, let ow = spatial[1].value else { throw ModelError(.invalidGraph, "pooling output size unknown") }
        let pads = ConvKernel.pads(window, input: [h, w], output: [oh, ow])
        let output = try EngineTensor(dtype: .float, shape: [n, c, oh, ow])
        let (source, target) = (x.floats.baseAddress!, output.floats.baseAddress!)
        let countPadding = self.countPadding
        let geometry = WindowGeometry(window, pads: pads, height: h, width: w, outputWidth: ow)
        if isMax && ow < WindowGeometry.blockedWidth {
            try WindowGeometry.forEachBlock(n * c, geometry.plane(outputHeight: oh), context) { window, first, count, scratch in
                ck_max_pool_blocked(window, source, first, count, target, scratch)
            }
            return [oneDimensional ? output.reshaped([n, c, ow]) : output]
        }
        if isMax {
            try WindowGeometry.forEachPlane(n * c, geometry.plane(outputHeight: oh), context) { window, plane, scratch in
                ck_max_pool_plane(window, source + plane * h * w, target + plane * oh * ow, scratch)
            }
            return [oneDimensional ? output.reshaped([n, c, ow]) : output]
        }
        let kw = window.kernel[1]
        context.parallelRanges(n * c, grain: 4) { planes in
            for plane in planes {
                let from = UnsafePointer(source + plane * h * w), to = target + plane * oh * ow
                for oy in 0..<oh {
                    let out = to + oy * ow
                    for ox in geometry.borderColumns {
                        var best = -Float.infinity, sum: Float = 0, used = 0
                        let padded = geometry.forEachTap(of: oy, ox, in: from) { v, _ in
                            if v > best || v.isNaN { best = v }
                            sum += v
                            used += 1
                        }
                        out[ox] = isMax ? best : sum / Float(max(1, countPadding ? padded : used))
                    }
                    if isMax {
                        for ox in geometry.interior { out[ox] = -.infinity }
                        geometry.accumulateInterior(out, from, row: oy) { best, v, _ in v > best || v.isNaN ? v : best }
                    } else {
                        for ox in geometry.interior { out[ox] = 0 }
                        geometry.accumulateInterior(out, from, row: oy) { sum, v, _ in sum + v }
                        let rows = geometry.kernelRows(oy)
                        let count = Float(max(1, (countPadding ? rows.padded : rows.inside.count) * kw))
                        for ox in geometry.interior { out[ox] /= count }
                    }
                }
            }
        }
        return [oneDimensional ? output.reshaped([n, c, ow]) : output]
    }
}

/// Where a 2-D window (of a convolution or a pooling) meets one image plane:
/// the interior output columns, whose taps all lie inside the image
/// horizontally, and for each output row the kernel rows that lie inside
/// vertically. Interior loops need no per-tap bounds checks.
struct WindowGeometry {
    let kernel: (h: Int, w: Int), stride: (h: Int, w: Int), dilation: (h: Int, w: Int)
    /// top, left, bottom, right
    let pads: [Int]
    let height: Int, width: Int, outputWidth: Int
    let interior: Range<Int>

    init(_ window: Window, pads: [Int], height: Int, width: Int, outputWidth: Int) {
        kernel = (window.kernel[0], window.kernel[1])
        stride = (window.strides[0], window.strides[1])
        dilation = (window.dilations[0], window.dilations[1])
        self.pads = pads
        self.height = height
        self.width = width
        self.outputWidth = outputWidth
        let begin = min(outputWidth, (pads[1] + stride.w - 1) / stride.w)
        let lastStart = width - 1 + pads[1] - (kernel.w - 1) * dilation.w
        interior = begin..<(lastStart < 0 ? begin : max(begin, min(outputWidth, lastStart / stride.w + 1)))
    }

    /// This window over an output of `outputHeight` rows, as the C plane
    /// kernels take it; `clamp` for a depthwise convolution's activation.
    func plane(outputHeight: Int, clamp: (low: Float, high: Float)? = nil) -> ck_plane_window {
        ck_plane_window(height: height, width: width, kernel_h: kernel.h, kernel_w: kernel.w, stride_h: stride.h, stride_w: stride.w,
                        dilation_h: dilation.h, dilation_w: dilation.w, pad_top: pads[0], pad_left: pads[1],
                        out_h: outputHeight, out_w: outputWidth, clamp: clamp == nil ? 0 : 1, low: clamp?.low ?? 0, high: clamp?.high ?? 0)
    }

    /// Output rows narrower than this (a vector of floats) run sixteen planes at
    /// once (`ck_depthwise_blocked`, `ck_max_pool_blocked`). MobileNetV2's
    /// depthwise layers at 14×14 and 7×7 took 0.14–0.18 ms each a plane at a
    /// time, about 5 GB/s; at 28×28 a plane at a time was faster.
    static let blockedWidth = 16

    /// Runs `body(window, first, count, scratch)` for `planes` planes in
    /// blocks of sixteen, spread over the threads in contiguous runs, each
    /// thread with the scratch the C blocked kernels need for `window`.
    static func forEachBlock(_ planes: Int, _ window: ck_plane_window, _ context: ExecutionContext,
                             _ body: (UnsafePointer<ck_plane_window>, Int, Int, UnsafeMutablePointer<Float>) -> Void) throws(ModelError) {
        let floats = withUnsafePointer(to: window) { ck_plane_window_blocked_scratch_floats($0) }
        guard floats > 0 else { throw ModelError(.limit, "a window's padded planes are too large") }
        let blocks = (planes + 15) / 16, workers = max(1, min(context.threads, blocks))
        let scratch = try EngineTensor(dtype: .float, shape: [workers, floats])
        let base = scratch.floats.baseAddress!, chunk = (blocks + workers - 1) / workers
        withExtendedLifetime(scratch) {
            withUnsafePointer(to: window) { window in
                context.parallel(workers) { worker in
                    for block in (worker * chunk)..<min(blocks, (worker + 1) * chunk) {
                        body(window, block * 16, min(16, planes - block * 16), base + worker * floats)
                    }
                }
            }
        }
    }

    /// Runs `body(window, plane, scratch)` for `planes` planes, spread over
    /// the threads in contiguous runs, each thread with its own scratch of
    /// the size the C plane kernels need for `window`.
    static func forEachPlane(_ planes: Int, _ window: ck_plane_window, _ context: ExecutionContext,
                             _ body: (UnsafePointer<ck_plane_window>, Int, UnsafeMutablePointer<Float>) -> Void) throws(ModelError) {
        let floats = withUnsafePointer(to: window) { ck_plane_window_scratch_floats($0) }
        guard floats > 0 else { throw ModelError(.limit, "a window's padded plane is too large") }
        let workers = max(1, min(context.threads, planes))
        let scratch = try EngineTensor(dtype: .float, shape: [workers, floats])
        let base = scratch.floats.baseAddress!, chunk = (planes + workers - 1) / workers
        withExtendedLifetime(scratch) {
            withUnsafePointer(to: window) { window in
                context.parallel(workers) { worker in
                    for plane in (worker * chunk)..<min(planes, (worker + 1) * chunk) { body(window, plane, base + worker * floats) }
                }
            }
        }
    }

    /// The output columns left and right of the interior.
    var borderColumns: FlattenSequence<[Range<Int>]> { [0..<interior.lowerBound, interior.upperBound..<outputWidth].joined() }

    /// The kernel rows of output row `oy` inside the image, and how many lie
    /// inside the padded extent (top padding included), as count_include_pad counts.
    func kernelRows(_ oy: Int) -> (inside: Range<Int>, padded: Int) {
        let top = oy * stride.h - pads[0]
        var begin = 0, end = 0, padded = 0
        while begin < kernel.h && top + begin * dilation.h < 0 { begin += 1 }
        end = begin
        while end < kernel.h && top + end * dilation.h < height { end += 1 }
        while padded < kernel.h && top + padded * dilation.h < height + pads[2] { padded += 1 }
        return (begin..<end, padded)
    }

    /// Calls `body(value, tap)` for each tap of output (oy, ox) inside the
    /// image, tap = ky · kernel width + kx; returns how many taps lie inside
    /// the padded extent (taps in the end padding beyond it do not count).
    @inline(__always)
    func forEachTap(of oy: Int, _ ox: Int, in plane: UnsafePointer<Float>, _ body: (Float, Int) -> Void) -> Int {
        var padded = 0
        for ky in 0..<kernel.h {
            let iy = oy * stride.h - pads[0] + ky * dilation.h
            for kx in 0..<kernel.w {
                let ix = ox * stride.w - pads[1] + kx * dilation.w
                guard iy < height + pads[2], ix < width + pads[3] else { continue }
                padded += 1
                guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                body(plane[iy * width + ix], ky * kernel.w + kx)
            }
        }
        return padded
    }

    /// out[ox] = combine(out[ox], value, tap) over the interior columns of
    /// output row `oy`, for each of its taps inside the image in turn: the
    /// loop runs along the row, and the common strides are constants, so
    /// that the compiler vectorises it.
    @inline(__always)
    func accumulateInterior(_ out: UnsafeMutablePointer<Float>, _ plane: UnsafePointer<Float>, row oy: Int,
                            _ combine: (Float, Float, Int) -> Float) {
        let top = oy * stride.h - pads[0]
        for ky in kernelRows(oy).inside {
            for kx in 0..<kernel.w {
                let line = plane + (top + ky * dilation.h) * width - pads[1] + kx * dilation.w
                let tap = ky * kernel.w + kx
                @inline(__always) func taps(stride: Int) {
                    for ox in interior { out[ox] = combine(out[ox], line[ox &* stride], tap) }
                }
                switch stride.w {
                case 1: taps(stride: 1)
                case 2: taps(stride: 2)
                default: taps(stride: stride.w)
                }
            }
        }
    }
}

extension WindowPool: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        try HalfPrecision(PoolKernel(self, setup), setup)
    }
}
