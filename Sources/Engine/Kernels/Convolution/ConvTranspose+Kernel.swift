internal import CKernels
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - ConvTranspose

/// ConvTranspose over any number of spatial axes, float32: per image and
/// group, columns = Wᵀ·X by GEMM, then the columns are scattered into the
/// output (col2im) and the bias added.
struct ConvTransposeKernel: Kernel {
    let group: Int
    let kernelShape: [Int]?
    let strides: [Int]?
    let dilations: [Int]?
    let pads: [Int]?
    let outputPadding: [Int]?
    let outputShape: [Int]?
    let autoPad: String

    init(_ schema: ConvTranspose) {
        group = schema.group
        kernelShape = schema.kernelShape
        strides = schema.strides
        dilations = schema.dilations
        pads = schema.pads
        outputPadding = schema.outputPadding
        outputShape = schema.outputShape
        autoPad = schema.autoPad
    }

    /// Checks a per-axis attribute: `count` values in `range`, or `fallback` when absent.
    private func list(_ values: [Int]?, _ name: String, count: Int, fallback: Int, _ valid: (Int) -> Bool) throws(ModelError) -> [Int] {
        guard let values else { return Array(repeating: fallback, count: count) }
        guard values.count == count, values.allSatisfy({ valid($0) && abs($0) < 1 << 30 }) else {
            throw ModelError(.invalidGraph, "\(name) \(values) does not fit \(count) values")
        }
        return values
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X"), w = try floatInput(inputs, 1, "weight W")
        let rank = x.shape.count - 2
        guard rank >= 1, w.shape.count == x.shape.count else {
            throw ModelError(.invalidGraph, "ConvTranspose needs input and weight of equal rank ≥ 3, got \(x.shape) and \(w.shape)")
        }
        let n = x.shape[0], c = x.shape[1]
        guard w.shape[0] == c, c % group == 0 else {
            throw ModelError(.invalidGraph, "weight \(w.shape) does not fit \(c) input channels in \(group) groups")
        }
        let mg = w.shape[1], cg = c / group
        // The group count comes from the file: the output channels may overflow.
        let (m, overflow) = mg.multipliedReportingOverflow(by: group)
        guard !overflow else { throw ModelError(.invalidGraph, "\(group) groups of \(mg) output channels are too many") }
        let kernel = Array(w.shape.dropFirst(2))
        if let kernelShape, kernelShape != kernel {
            throw ModelError(.invalidGraph, "kernel_shape \(kernelShape) differs from the weight's \(kernel)")
        }
        let inSize = Array(x.shape.dropFirst(2))
        guard inSize.allSatisfy({ $0 < 1 << 30 }), kernel.allSatisfy({ $0 < 1 << 30 }) else {
            throw ModelError(.invalidGraph, "ConvTranspose sizes are too large")
        }
        let stride = try list(strides, "strides", count: rank, fallback: 1) { $0 > 0 }
        let dilation = try list(dilations, "dilations", count: rank, fallback: 1) { $0 > 0 }
        let extraPad = try list(outputPadding, "output_padding", count: rank, fallback: 0) { $0 >= 0 }
        var explicitPads = try list(pads, "pads", count: 2 * rank, fallback: 0) { $0 >= 0 }
        // Half of a total padding, rounded down (a requested output larger than the full one pads at the end).
        func half(_ total: Int) -> Int { total >= 0 ? total / 2 : -((-total + 1) / 2) }
        var outSize = [Int](repeating: 0, count: rank)
        var begin = [Int](repeating: 0, count: rank)
        for i in 0..<rank {
            let full = stride[i] * (inSize[i] - 1) + extraPad[i] + (kernel[i] - 1) * dilation[i] + 1
            if let outputShape, outputShape.count >= rank {
                let size = outputShape[outputShape.count - rank + i]
                let total = full - size
                outSize[i] = size
                begin[i] = autoPad == "SAME_UPPER" ? half(total) : total - half(total)
            } else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                let size = inSize[i] * stride[i]
                let total = full - size
                outSize[i] = size
                begin[i] = autoPad == "SAME_UPPER" ? half(total) : total - half(total)
            } else {
                if autoPad == "VALID" { explicitPads[i] = 0; explicitPads[i + rank] = 0 }
                begin[i] = explicitPads[i]
                outSize[i] = full - explicitPads[i] - explicitPads[i + rank]
            }
            guard outSize[i] > 0, outSize[i] < 1 << 30 else { throw ModelError(.invalidGraph, "ConvTranspose output would be empty or too large") }
        }
        let output = try EngineTensor(dtype: .float, shape: [n, m] + outSize)
        let plane = outSize.reduce(1, *), pixels = inSize.reduce(1, *), kk = kernel.reduce(1, *)
        let y = output.floats
        if let bias = optionalInput(inputs, 2) {
            guard bias.dtype == .float, bias.count == m else { throw ModelError(.invalidGraph, "bias must be \(m) float32 values") }
            let b = bias.floats
            for image in 0..<n { for ch in 0..<m { (y.baseAddress! + (image * m + ch) * plane).update(repeating: b[ch], count: plane) } }
        } else {
            y.update(repeating: 0)
        }
        guard pixels > 0, kk > 0, cg > 0, mg > 0 else { return [output] }
        let rows = mg * kk
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * pixels)
        defer { columns.deallocate() }
        // Output coordinate along each axis for each kernel tap and input position, or -1 outside.
        var target: [[Int]] = []
        for a in 0..<rank {
            var table = [Int](repeating: -1, count: kernel[a] * inSize[a])
            for k in 0..<kernel[a] {
                for i in 0..<inSize[a] {
                    let o = i * stride[a] - begin[a] + k * dilation[a]
                    if o >= 0 && o < outSize[a] { table[k * inSize[a] + i] = o }
                }
            }
            target.append(table)
        }
        let xBase = x.floats.baseAddress!, wBase = w.floats.baseAddress!, yBase = y.baseAddress!
        let colBase = columns
        let targets = target, inner = inSize[rank - 1], outer = pixels / inner
        for image in 0..<n {
            for g in 0..<group {
                let source = xBase + (image * c + g * cg) * pixels
                let weights = wBase + g * cg * rows
                context.parallelRanges(pixels, grain: 64) { range in
                    ck_sgemm(1, 0, rows, range.count, cg, 1, weights, rows, source + range.lowerBound, pixels,
                             0, colBase + range.lowerBound, pixels)
                }
                context.parallelRanges(mg) { channels in
                    var kc = [Int](repeating: 0, count: rank), ic = [Int](repeating: 0, count: rank)
                    for channel in channels {
                        let out = yBase + (image * m + g * mg + channel) * plane
                        for tap in 0..<kk {
                            var rest = tap
                            for a in Swift.stride(from: rank - 1, through: 0, by: -1) { kc[a] = rest % kernel[a]; rest /= kernel[a] }
                            let col = colBase + (channel * kk + tap) * pixels
                            let last = targets[rank - 1], lastOffset = kc[rank - 1] * inner
                            for o in 0..<outer {
                                // Coordinates of the outer axes of input position o.
                                var rest = o, offset = 0, valid = true
                                for a in Swift.stride(from: rank - 2, through: 0, by: -1) { ic[a] = rest % inSize[a]; rest /= inSize[a] }
                                for a in 0..<(rank - 1) {
                                    let t = targets[a][kc[a] * inSize[a] + ic[a]]
                                    if t < 0 { valid = false; break }
                                    offset = offset * outSize[a] + t
                                }
                                if !valid { continue }
                                offset *= outSize[rank - 1]
                                let row = col + o * inner
                                for i in 0..<inner {
                                    let t = last[lastOffset + i]
                                    if t >= 0 { out[offset + t] += row[i] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return [output]
    }
}

extension ConvTranspose: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        try HalfPrecision(ConvTransposeKernel(self), setup)
    }
}
