/// `DFT`: the discrete Fourier transform along one axis of a real ([..., 1]) or complex ([..., 2]) signal.
///
/// Counted as FFTs: 5 · n · ⌈log₂ n⌉ FLOPs per transform of length n (half
/// for the real-input and real-output one-sided forms), one transform per
/// position of the other axes.
public struct FourierTransform: OpSchema {
    /// `inverse`: the inverse transform.
    public let inverse: Bool
    /// `onesided`: real input to half spectrum, or half spectrum to real output when inverse.
    public let onesided: Bool
    /// Opset 17–19 give the axis as an attribute; from opset 20 it is input 2.
    public let axisAttribute: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        inverse = try reader.int("inverse", default: 0) != 0
        onesided = try reader.int("onesided", default: 0) != 0
        axisAttribute = opset < 20 ? try reader.int("axis", default: 1) : nil
        try reader.expectInputs(opset < 20 ? 1...2 : 1...3)
    }

    /// The transform's axis, its length n and the output's shape.
    func transform(_ inputs: [ValueFact?]) throws(ModelError) -> (axis: Int?, length: Dim, shape: Shape?) {
        guard let x = inputs[input: 0]?.shape else { return (nil, .unknown, nil) }
        guard x.rank >= 2 else { throw reader.error("the signal must have rank 2 or more, got \(x.rank)") }
        // A one-sided inverse transform takes complex input; the others take real or complex.
        if let parts = x.dims[x.rank - 1].value, !(onesided && inverse ? [2] : [1, 2]).contains(parts) {
            throw reader.error("the last dimension must hold \(onesided && inverse ? "2" : "1 or 2") parts, it has \(parts)")
        }
        var axis: Int?
        if let attribute = axisAttribute {
            axis = attribute
        } else if inputs[input: 2] != nil {
            axis = Miscellaneous.scalar(inputs[input: 2])?.value
        } else {
            axis = -2
        }
        // The last axis holds the real and imaginary parts and cannot be transformed.
        if let a = axis {
            let normalised = try reader.axis(a, rank: x.rank)
            guard normalised < x.rank - 1 else { throw reader.error("axis \(a) is the complex axis") }
            axis = normalised
        }
        let lengthGiven = inputs[input: 1] != nil
        let last = Dim.known(onesided && inverse ? 1 : 2)
        guard let axis else {
            // Only a full transform of the default length keeps every axis, wherever it runs.
            let keeps = !onesided && !lengthGiven
            return (nil, .unknown, Shape(x.dims.dropLast().map { keeps ? $0 : .unknown } + [last]))
        }
        let signal = x.dims[axis]
        let length: Dim
        if lengthGiven {
            length = try Miscellaneous.size(inputs[input: 1], "dft_length", reader)
        } else {
            // A one-sided inverse input holds n/2 + 1 bins.
            length = onesided && inverse ? (signal - .known(1)) * .known(2) : signal
        }
        var dims = x.dims
        dims[axis] = onesided && !inverse ? length.flooredDivision(by: .known(2)) + .known(1) : length
        dims[x.rank - 1] = last
        return (axis, length, Shape(dims))
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        [ValueFact(dtype: inputs[input: 0]?.dtype, shape: try transform(inputs).shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (axis, length, shape) = try? transform(inputs), let axis, let n = length.value, n >= 0,
              let dims = shape?.values else { return nil }
        var others = dims
        others.remove(at: axis)
        guard let transforms = Count.product(Array(others.dropLast())), let perTransform = Miscellaneous.fftFLOPs(n),
              let flops = Count.product(transforms, onesided ? perTransform / 2 : perTransform) else { return nil }
        return OpCost(macs: 0, flops: flops)
    }

    /// The signal is data.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `STFT`: DFTs of windowed frames sliding over a signal, giving [batch, frames, bins, 2].
///
/// Per frame: one FFT of the frame length (5 · n · ⌈log₂ n⌉ FLOPs, half for
/// one-sided output) and one multiplication per sample when a window is given.
public struct ShortTimeFourierTransform: OpSchema {
    /// `onesided` (default 1): only the non-redundant half of each spectrum.
    public let onesided: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        onesided = try reader.int("onesided", default: 1) != 0
        try reader.expectInputs(2...4)
    }

    /// Batch, frames and frame length.
    func frames(_ inputs: [ValueFact?]) throws(ModelError) -> (batch: Dim, frames: Dim, length: Dim) {
        var batch = Dim.unknown, signal = Dim.unknown
        if let s = inputs[input: 0]?.shape {
            guard s.rank == 3 else { throw reader.error("the signal must have rank 3, got \(s.rank)") }
            (batch, signal) = (s.dims[0], s.dims[1])
        }
        var length = Dim.unknown
        if let window = inputs[input: 2]?.shape {
            guard window.rank == 1 else { throw reader.error("the window must have rank 1, got \(window.rank)") }
            length = window.dims[0]
        }
        if inputs[input: 3] != nil {
            length = try SequenceModels.same(length, Miscellaneous.size(inputs[input: 3], "frame_length", reader), "frame length", reader)
        } else if inputs[input: 2] == nil {
            length = signal
        }
        var frames = Dim.unknown
        if let n = signal.value, let l = length.value, let step = Miscellaneous.scalar(inputs[input: 1])?.value {
            guard step > 0, l > 0, l <= n else { throw reader.error("frame length \(l) and step \(step) do not fit a signal of \(n)") }
            frames = .known((n - l) / step + 1)
        }
        return (batch, frames, length)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let (batch, frames, length) = try frames(inputs)
        let bins = onesided ? length.flooredDivision(by: .known(2)) + .known(1) : length
        return [ValueFact(dtype: inputs[input: 0]?.dtype, shape: Shape([batch, frames, bins, .known(2)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (batch, frames, length) = try? frames(inputs), let b = batch.value, let f = frames.value,
              let n = length.value, let fft = Miscellaneous.fftFLOPs(n) else { return nil }
        let perFrame = (onesided ? fft / 2 : fft) + (inputs[input: 2] != nil ? n : 0)
        guard let flops = Count.product(b, f, perFrame) else { return nil }
        return OpCost(macs: 0, flops: flops)
    }

    /// The window is a computed table.
    public func holdsParameters(input index: Int) -> Bool { false }
}
