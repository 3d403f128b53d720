#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// HannWindow, HammingWindow and BlackmanWindow: the cosine sum
/// a₀ − a₁·cos(2πn/N) + a₂·cos(4πn/N) over n in 0..<size, N the size when
/// periodic, else size − 1.
struct WindowFunctionKernel: Kernel {
    let schema: WindowFunction

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let size = try ShapeKernels.scalarInteger(try requiredInput(inputs, 0, "size"), "window size")
        guard size >= 0 else { throw ModelError(.invalidGraph, "the window size must not be negative, got \(size)") }
        let output = try EngineTensor(dtype: schema.dtype, shape: [size])
        let write = try ElementNumbers.writer(schema.dtype)
        let period = Double(schema.periodic ? size : size - 1)
        let (a0, a1, a2) = (schema.coefficients[0], schema.coefficients[1], schema.coefficients[2])
        for n in 0..<size {
            let angle = 2 * Double.pi * Double(n) / period
            write(output.buffer.base, n, a0 - a1 * cos(angle) + a2 * cos(2 * angle))
        }
        return [output]
    }
}

extension WindowFunction: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { WindowFunctionKernel(schema: self) }
}

/// MelWeightMatrix: num_mel_bins triangular filters over the dft_length / 2 + 1
/// bins of a one-sided spectrum. The num_mel_bins + 2 edges are equally
/// spaced on the mel scale (2595 · log₁₀(1 + f / 700)) from the lower to the
/// upper edge frequency, in steps of the range / (num_mel_bins + 2) as the
/// specification's reference does, and each edge falls on the bin
/// ⌊(dft_length + 1) · f / sample_rate⌋.
struct MelWeightMatrixKernel: Kernel {
    let dtype: DType

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let mels = try ShapeKernels.scalarInteger(try requiredInput(inputs, 0, "num_mel_bins"), "num_mel_bins")
        let length = try ShapeKernels.scalarInteger(try requiredInput(inputs, 1, "dft_length"), "dft_length")
        let rate = try scalarDouble(try requiredInput(inputs, 2, "sample_rate"), "sample_rate")
        let lower = try scalarDouble(try requiredInput(inputs, 3, "lower_edge_hertz"), "lower_edge_hertz")
        let upper = try scalarDouble(try requiredInput(inputs, 4, "upper_edge_hertz"), "upper_edge_hertz")
        guard mels > 0, length > 0, rate > 0, lower >= 0, upper >= lower else {
            throw ModelError(.invalidGraph, "MelWeightMatrix needs positive bins, length and rate and 0 ≤ lower ≤ upper edge")
        }
        let bins = length / 2 + 1
        let output = try EngineTensor(dtype: dtype, shape: [bins, mels])
        func mel(_ hertz: Double) -> Double { 2595 * log1p(hertz / 700) / log(10) }
        let (low, step) = (mel(lower), (mel(upper) - mel(lower)) / Double(mels + 2))
        var edges: [Int] = []
        for i in 0..<(mels + 2) {
            let hertz = 700 * expm1((Double(i) * step + low) / 2595 * log(10))
            let bin = (Double(length + 1) * hertz / rate).rounded(.down)
            guard bin >= 0, bin < Double(bins) else {
                throw ModelError(.invalidGraph, "MelWeightMatrix edge \(hertz) Hz falls outside the \(bins) spectrum bins")
            }
            edges.append(Int(bin))
        }
        var weights = [Double](repeating: 0, count: bins * mels)
        for i in 0..<mels {
            let (left, center, right) = (edges[i], edges[i + 1], edges[i + 2])
            if center == left {
                weights[center * mels + i] = 1
            } else {
                for j in left...center { weights[j * mels + i] = Double(j - left) / Double(center - left) }
            }
            for j in center..<max(center, right) { weights[j * mels + i] = Double(right - j) / Double(right - center) }
        }
        let write = try ElementNumbers.writer(dtype)
        for (i, w) in weights.enumerated() { write(output.buffer.base, i, w) }
        return [output]
    }
}

extension MelWeightMatrix: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { MelWeightMatrixKernel(dtype: dtype) }
}
