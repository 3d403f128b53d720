#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// RoiAlign: each region (x1, y1, x2, y2, scaled by spatial_scale) is cut
/// into output_height × output_width bins, each sampled on a regular grid
/// (sampling_ratio² points, or ⌈bin size⌉ per side when adaptive) by bilinear
/// interpolation, and the samples averaged. The max mode takes, per sample,
/// the largest of its four weighted neighbours and then the largest sample,
/// as the specification's reference and onnxruntime do.
struct RoiAlignKernel: Kernel {
    let outputSize: [Int]
    let samplingRatio: Int
    let takesMaximum: Bool
    let spatialScale: Double
    let halfPixel: Bool

    /// The most samples one bin may take (an adaptive ratio follows the regions' sizes, which are data).
    static let maximumSamples = 1 << 16
    /// The most samples one region's table may hold.
    static let maximumTable = 1 << 24

    /// A sample's four neighbours (flat positions in one channel plane) and their weights; empty outside the map.
    typealias Sample = [(position: Int, weight: Double)]

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "X")
        let rois = try ElementNumbers.doubles(try requiredInput(inputs, 1, "rois"))
        let batchIndices = try ShapeKernels.integers(try requiredInput(inputs, 2, "batch_indices"), "batch_indices")
        guard x.shape.count == 4, rois.count == 4 * batchIndices.count else {
            throw ModelError(.invalidGraph, "RoiAlign needs X [N, C, H, W] and rois [R, 4] for R batch indices, got \(x.shape), \(rois.count) coordinates and \(batchIndices.count) indices")
        }
        let (channels, height, width) = (x.shape[1], x.shape[2], x.shape[3])
        let (pooledH, pooledW) = (outputSize[0], outputSize[1])
        let output = try EngineTensor(dtype: x.dtype, shape: [batchIndices.count, channels, pooledH, pooledW])
        let read = try ElementNumbers.reader(x.dtype), write = try ElementNumbers.writer(x.dtype)
        let source = UnsafeRawPointer(x.buffer.base)
        let offset = halfPixel ? 0.5 : 0
        for (r, image) in batchIndices.enumerated() {
            guard image >= 0 && image < x.shape[0] else {
                throw ModelError(.invalidGraph, "RoiAlign batch index \(image) is outside 0..<\(x.shape[0])")
            }
            let box = rois[(4 * r)..<(4 * r + 4)].map { $0 * spatialScale - offset }
            var (roiW, roiH) = (box[2] - box[0], box[3] - box[1])
            if !halfPixel { (roiW, roiH) = (max(roiW, 1), max(roiH, 1)) }
            let (binH, binW) = (roiH / Double(pooledH), roiW / Double(pooledW))
            let gridH = try samplesPerSide(binH), gridW = try samplesPerSide(binW)
            // The sample table of one region holds every bin's samples.
            guard gridH * gridW <= Self.maximumSamples, let table = Shape.product([gridH, gridW, pooledH, pooledW]),
                  table <= Self.maximumTable else {
                throw ModelError(.limit, "RoiAlign region \(r) takes \(gridH)×\(gridW) samples in each of \(pooledH)×\(pooledW) bins, more than the engine's bound")
            }
            // The samples depend on the region only, so they are found once for every channel.
            var bins: [[Sample]] = []
            for ph in 0..<pooledH {
                for pw in 0..<pooledW {
                    var samples: [Sample] = []
                    for iy in 0..<gridH {
                        let y = box[1] + Double(ph) * binH + (Double(iy) + 0.5) * binH / Double(gridH)
                        for ix in 0..<gridW {
                            let x = box[0] + Double(pw) * binW + (Double(ix) + 0.5) * binW / Double(gridW)
                            samples.append(Self.bilinear(y: y, x: x, height: height, width: width))
                        }
                    }
                    bins.append(samples)
                }
            }
            let count = Double(max(gridH * gridW, 1))
            for c in 0..<channels {
                let plane = (image * channels + c) * height * width
                for (b, samples) in bins.enumerated() {
                    var result = 0.0
                    for (k, sample) in samples.enumerated() {
                        let values = sample.isEmpty ? [0] : sample.map { $0.weight * read(source, plane + $0.position) }
                        if takesMaximum {
                            let largest = values.max() ?? 0
                            result = k == 0 ? largest : max(result, largest)
                        } else {
                            result += values.reduce(0, +)
                        }
                    }
                    write(output.buffer.base, ((r * channels + c) * pooledH * pooledW) + b, takesMaximum ? result : result / count)
                }
            }
        }
        return [output]
    }

    /// Samples per bin side: the sampling ratio, or the bin's size rounded up when adaptive.
    func samplesPerSide(_ bin: Double) throws(ModelError) -> Int {
        if samplingRatio > 0 { return samplingRatio }
        let side = bin.rounded(.up)
        guard side.isFinite, side < Double(Self.maximumSamples) else {
            throw ModelError(.limit, "RoiAlign bin of size \(bin) takes too many samples")
        }
        return max(Int(side), 0)
    }

    /// The bilinear neighbours of (y, x) in an H × W map; none beyond one element outside it.
    static func bilinear(y: Double, x: Double, height: Int, width: Int) -> Sample {
        guard height > 0, width > 0, y >= -1, y <= Double(height), x >= -1, x <= Double(width) else { return [] }
        var (y, x) = (max(y, 0), max(x, 0))
        var (yLow, xLow) = (Int(y), Int(x))
        let yHigh: Int, xHigh: Int
        if yLow >= height - 1 { (yLow, yHigh, y) = (height - 1, height - 1, Double(height - 1)) } else { yHigh = yLow + 1 }
        if xLow >= width - 1 { (xLow, xHigh, x) = (width - 1, width - 1, Double(width - 1)) } else { xHigh = xLow + 1 }
        let (ly, lx) = (y - Double(yLow), x - Double(xLow))
        let (hy, hx) = (1 - ly, 1 - lx)
        return [(yLow * width + xLow, hy * hx), (yLow * width + xHigh, hy * lx),
                (yHigh * width + xLow, ly * hx), (yHigh * width + xHigh, ly * lx)]
    }
}

extension RegionPooling: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        guard setup.node.opType == "RoiAlign" else { throw setup.noKernel }
        return RoiAlignKernel(outputSize: outputSize, samplingRatio: samplingRatio, takesMaximum: takesMaximum,
                              spatialScale: Double(spatialScale), halfPixel: halfPixel)
    }
}
