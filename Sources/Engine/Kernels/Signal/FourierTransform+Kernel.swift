#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - The transform

/// A discrete Fourier transform of one length, in double precision: radix-2
/// for powers of two, and Bluestein's chirp for other lengths (one
/// power-of-two convolution of at most 4n points), so every length costs
/// O(n log n) and no table is larger than 8n values.
struct FourierPlan {
    let length: Int
    /// Bluestein only: the chirp e^(−πik²/n) and the padded convolution's plan with the chirp's spectrum.
    private let chirp: (re: [Double], im: [Double])?
    private let convolution: (plan: Radix2, re: [Double], im: [Double])?

    /// The largest transform length the engine runs (2²⁴ points): bounds the tables built per transform.
    static let maximumLength = 1 << 24

    init(length: Int) throws(ModelError) {
        guard length > 0, length <= Self.maximumLength else {
            throw ModelError(.limit, "a transform of length \(length) is outside 1…\(Self.maximumLength)")
        }
        self.length = length
        if length & (length - 1) == 0 {
            chirp = nil
            convolution = nil
            return
        }
        var padded = 1
        while padded < 2 * length - 1 { padded <<= 1 }
        var cr = [Double](repeating: 0, count: length), ci = cr
        for k in 0..<length {
            // k² mod 2n keeps the angle exact for large k.
            let angle = Double.pi * Double((k * k) % (2 * length)) / Double(length)
            (cr[k], ci[k]) = (cos(angle), -sin(angle))
        }
        let plan = Radix2(length: padded)
        var br = [Double](repeating: 0, count: padded), bi = br
        br[0] = cr[0]; bi[0] = -ci[0]
        for k in 1..<length {
            (br[k], bi[k]) = (cr[k], -ci[k])
            (br[padded - k], bi[padded - k]) = (cr[k], -ci[k])
        }
        plan.run(&br, &bi, inverse: false)
        chirp = (cr, ci)
        convolution = (plan, br, bi)
    }

    /// Transforms `re` and `im` (each `length` long) in place; the inverse is not divided by n.
    func run(_ re: inout [Double], _ im: inout [Double], inverse: Bool) {
        // The inverse is the forward transform of the conjugate, conjugated.
        if inverse { for k in 0..<length { im[k] = -im[k] } }
        if let chirp, let convolution {
            let padded = convolution.plan.length
            var ar = [Double](repeating: 0, count: padded), ai = ar
            for k in 0..<length {
                ar[k] = re[k] * chirp.re[k] - im[k] * chirp.im[k]
                ai[k] = re[k] * chirp.im[k] + im[k] * chirp.re[k]
            }
            convolution.plan.run(&ar, &ai, inverse: false)
            for k in 0..<padded {
                (ar[k], ai[k]) = (ar[k] * convolution.re[k] - ai[k] * convolution.im[k],
                                  ar[k] * convolution.im[k] + ai[k] * convolution.re[k])
            }
            convolution.plan.run(&ar, &ai, inverse: true)
            let scale = 1 / Double(padded)
            for k in 0..<length {
                let (xr, xi) = (ar[k] * scale, ai[k] * scale)
                re[k] = xr * chirp.re[k] - xi * chirp.im[k]
                im[k] = xr * chirp.im[k] + xi * chirp.re[k]
            }
        } else {
            Radix2(length: length).run(&re, &im, inverse: false)
        }
        if inverse { for k in 0..<length { im[k] = -im[k] } }
    }
}

/// The iterative radix-2 transform of a power-of-two length.
struct Radix2 {
    let length: Int

    func run(_ re: inout [Double], _ im: inout [Double], inverse: Bool) {
        let n = length
        guard n > 1 else { return }
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j { re.swapAt(i, j); im.swapAt(i, j) }
        }
        let sign: Double = inverse ? 1 : -1
        var size = 2
        while size <= n {
            let step = sign * 2 * Double.pi / Double(size), half = size / 2
            for k in 0..<half {
                let (wr, wi) = (cos(step * Double(k)), sin(step * Double(k)))
                var start = 0
                while start < n {
                    let (a, b) = (start + k, start + k + half)
                    let tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr
                    (re[b], im[b]) = (re[a] - tr, im[a] - ti)
                    (re[a], im[a]) = (re[a] + tr, im[a] + ti)
                    start += size
                }
            }
            size <<= 1
        }
    }
}

// MARK: - DFT

/// DFT: the transform of every line along one axis of a real ([..., 1]) or
/// complex ([..., 2]) signal, zero-padded or cut to `dft_length`; the inverse
/// divides by n, and the one-sided inverse reads a half spectrum and writes
/// the real signal of its Hermitian extension.
struct FourierTransformKernel: Kernel {
    let schema: FourierTransform

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        let rank = x.shape.count
        guard rank >= 2, let parts = x.shape.last, parts == 1 || parts == 2 else {
            throw ModelError(.invalidGraph, "DFT input must have rank 2 or more and 1 or 2 parts last, got shape \(x.shape)")
        }
        var axis = schema.axisAttribute ?? -2
        if let given = optionalInput(inputs, 2) { axis = try ShapeKernels.scalarInteger(given, "DFT axis") }
        axis = try ShapeKernels.axis(axis, rank: rank)
        guard axis < rank - 1 else { throw ModelError(.invalidGraph, "DFT axis \(axis) is the complex axis") }
        let inverse = schema.inverse, halfInverse = schema.onesided && schema.inverse
        let signal = x.shape[axis]
        var n = halfInverse ? 2 * (signal - 1) : signal
        if let given = optionalInput(inputs, 1) { n = try ShapeKernels.scalarInteger(given, "dft_length") }
        let plan = try FourierPlan(length: n)
        let bins = schema.onesided && !inverse ? n / 2 + 1 : n
        var dims = x.shape
        dims[axis] = bins
        dims[rank - 1] = halfInverse ? 1 : 2
        let output = try EngineTensor(dtype: x.dtype, shape: dims)
        let read = try ElementNumbers.reader(x.dtype), write = try ElementNumbers.writer(x.dtype)
        let source = UnsafeRawPointer(x.buffer.base), target = output.buffer.base

        let outer = elementCount(x.shape[..<axis]), inner = elementCount(x.shape[(axis + 1)..<(rank - 1)])
        // Only these input positions along the axis reach the transform.
        let used = min(signal, halfInverse ? n / 2 + 1 : n)
        var re = [Double](repeating: 0, count: n), im = re
        for o in 0..<outer {
            for i in 0..<inner {
                for k in 0..<n { (re[k], im[k]) = (0, 0) }
                for k in 0..<used {
                    let at = ((o * signal + k) * inner + i) * parts
                    re[k] = read(source, at)
                    if parts == 2 { im[k] = read(source, at + 1) }
                }
                if halfInverse {
                    for k in (n / 2 + 1)..<max(n, n / 2 + 1) where n - k < used {
                        (re[k], im[k]) = (re[n - k], -im[n - k])
                    }
                }
                plan.run(&re, &im, inverse: inverse)
                let scale = inverse ? 1 / Double(n) : 1
                for k in 0..<bins {
                    let at = ((o * bins + k) * inner + i) * (halfInverse ? 1 : 2)
                    write(target, at, re[k] * scale)
                    if !halfInverse { write(target, at + 1, im[k] * scale) }
                }
            }
        }
        return [output]
    }
}

extension FourierTransform: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        FourierTransformKernel(schema: self)
    }
}

// MARK: - STFT

/// STFT: the DFT of each windowed frame of frame_length samples, frame_step apart, as [batch, frames, bins, 2].
struct ShortTimeFourierTransformKernel: Kernel {
    let onesided: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "signal")
        guard x.shape.count == 3, x.shape[2] == 1 || x.shape[2] == 2 else {
            throw ModelError(.invalidGraph, "STFT signal must be [batch, length, 1 or 2], got \(x.shape)")
        }
        let (batch, signal, parts) = (x.shape[0], x.shape[1], x.shape[2])
        let step = try ShapeKernels.scalarInteger(try requiredInput(inputs, 1, "frame_step"), "frame_step")
        let window = try optionalInput(inputs, 2).map { w throws(ModelError) in
            guard w.shape.count == 1 else { throw ModelError(.invalidGraph, "STFT window must be 1-D, got \(w.shape)") }
            return try ElementNumbers.doubles(w)
        }
        var length = window?.count ?? signal
        if let given = optionalInput(inputs, 3) {
            let frame = try ShapeKernels.scalarInteger(given, "frame_length")
            guard window == nil || window?.count == frame else {
                throw ModelError(.invalidGraph, "STFT frame_length \(frame) differs from the window's \(length)")
            }
            length = frame
        }
        guard step > 0, length > 0, length <= signal else {
            throw ModelError(.invalidGraph, "STFT frame length \(length) and step \(step) do not fit a signal of \(signal)")
        }
        let frames = (signal - length) / step + 1
        let bins = onesided ? length / 2 + 1 : length
        let plan = try FourierPlan(length: length)
        let output = try EngineTensor(dtype: x.dtype, shape: [batch, frames, bins, 2])
        let read = try ElementNumbers.reader(x.dtype), write = try ElementNumbers.writer(x.dtype)
        let source = UnsafeRawPointer(x.buffer.base), target = output.buffer.base
        var re = [Double](repeating: 0, count: length), im = re
        for b in 0..<batch {
            for f in 0..<frames {
                for k in 0..<length {
                    let at = (b * signal + f * step + k) * parts, weight = window?[k] ?? 1
                    re[k] = read(source, at) * weight
                    im[k] = parts == 2 ? read(source, at + 1) * weight : 0
                }
                plan.run(&re, &im, inverse: false)
                for k in 0..<bins {
                    let at = ((b * frames + f) * bins + k) * 2
                    write(target, at, re[k])
                    write(target, at + 1, im[k])
                }
            }
        }
        return [output]
    }
}

extension ShortTimeFourierTransform: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        ShortTimeFourierTransformKernel(onesided: onesided)
    }
}
