#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - GridSample

/// GridSample: each grid point's normalised coordinates (x first, so in the
/// reverse order of X's spatial axes) become a position in X, which is read
/// by nearest, linear or cubic (Keys, a = −0.75) interpolation, every axis
/// separably, in double precision. Positions outside X read zeros, the
/// border, or the reflection of X about its edges.
struct GridSampleKernel: Kernel {
    let taps: Int
    let padding: String
    let alignCorners: Bool

    /// One axis's source positions and weights for one grid point; a nil position reads zero.
    typealias Taps = [(position: Int?, weight: Double)]

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "X"), grid = try requiredInput(inputs, 1, "grid")
        let rank = x.shape.count, spatial = rank - 2
        guard rank >= 3, grid.shape.count == rank, grid.shape[0] == x.shape[0], grid.shape[rank - 1] == spatial else {
            throw ModelError(.invalidGraph, "GridSample needs X [N, C, D…] and grid [N, …, \(max(spatial, 1))], got \(x.shape) and \(grid.shape)")
        }
        let (batch, channels) = (x.shape[0], x.shape[1]), dims = Array(x.shape[2...])
        let points = elementCount(grid.shape[1..<(rank - 1)])
        let output = try EngineTensor(dtype: x.dtype, shape: [batch, channels] + grid.shape[1..<(rank - 1)])
        let read = try ElementNumbers.reader(x.dtype), write = try ElementNumbers.writer(x.dtype)
        let readGrid = try ElementNumbers.reader(grid.dtype)
        let source = UnsafeRawPointer(x.buffer.base), coordinates = UnsafeRawPointer(grid.buffer.base)
        let plane = elementCount(dims), strides = Shape.strides(dims)
        for n in 0..<batch {
            for p in 0..<points {
                var axes: [Taps] = []
                for i in 0..<spatial {
                    let normalised = readGrid(coordinates, (n * points + p) * spatial + spatial - 1 - i)
                    axes.append(self.taps(normalised, size: dims[i]))
                }
                for c in 0..<channels {
                    let base = (n * channels + c) * plane
                    var sum = 0.0
                    Self.combinations(axes, strides: strides) { offset, weight in sum += weight * read(source, base + offset) }
                    write(output.buffer.base, (n * channels + c) * points + p, sum)
                }
            }
        }
        return [output]
    }

    /// Visits every combination of one tap per axis whose positions all lie in X, with its flat offset and weight product.
    static func combinations(_ axes: [Taps], strides: [Int], _ body: (Int, Double) -> Void) {
        func visit(_ axis: Int, _ offset: Int, _ weight: Double) {
            guard axis < axes.count else { return body(offset, weight) }
            for tap in axes[axis] {
                guard let position = tap.position else { continue }
                visit(axis + 1, offset + position * strides[axis], weight * tap.weight)
            }
        }
        visit(0, 0, 1)
    }

    /// The positions and weights along one axis of `size` for a normalised coordinate.
    func taps(_ normalised: Double, size: Int) -> Taps {
        var v = alignCorners ? (normalised + 1) / 2 * Double(size - 1) : ((normalised + 1) * Double(size) - 1) / 2
        let (low, high) = alignCorners ? (0.0, Double(size - 1)) : (-0.5, Double(size) - 0.5)
        if taps == 0 { v = v.rounded(.toNearestOrEven) }
        if v < low || v > high {
            if padding == "border" { v = min(max(v, 0), Double(size - 1)) }
            if padding == "reflection" { v = Self.reflect(v, low, high) }
        }
        guard taps > 0 else { return [(position(Self.whole(v), size, low, high), 1)] }
        let floor = Self.whole(v.rounded(.down)), t = v - v.rounded(.down)
        let weights = taps == 2 ? [1 - t, t] : Self.cubic(t)
        let first = taps == 2 ? floor : floor - 1
        return weights.enumerated().map { (position(first &+ $0.offset, size, low, high), $0.element) }
    }

    /// Where index `i` reads along an axis of `size`, under the padding mode.
    func position(_ i: Int, _ size: Int, _ low: Double, _ high: Double) -> Int? {
        switch padding {
        case "border": return min(max(i, 0), size - 1)
        case "reflection":
            let reflected = Self.whole(Self.reflect(Double(i), low, high))
            return min(max(reflected, 0), size - 1)
        default: return i >= 0 && i < size ? i : nil
        }
    }

    /// `v` folded into [low, high] by reflecting about its ends.
    static func reflect(_ v: Double, _ low: Double, _ high: Double) -> Double {
        let range = high - low
        guard range > 0, v.isFinite else { return low }
        if v >= low && v <= high { return v }
        let distance = v < low ? low - v : v - high
        let folds = (distance / range).rounded(.towardZero), rest = distance - folds * range
        let even = folds.truncatingRemainder(dividingBy: 2) == 0
        return v < low ? (even ? low + rest : high - rest) : (even ? high - rest : low + rest)
    }

    /// `v` truncated toward zero, far-out or NaN coordinates pinned well outside any axis.
    static func whole(_ v: Double) -> Int {
        guard v.isFinite, abs(v) < 1e15 else { return v > 0 ? 1 << 50 : -(1 << 50) }
        return Int(v)
    }

    /// Keys' cubic convolution weights (a = −0.75) of the four neighbours around fraction t.
    static func cubic(_ t: Double) -> [Double] {
        let a = -0.75
        func near(_ d: Double) -> Double { ((a + 2) * d - (a + 3)) * d * d + 1 }
        func far(_ d: Double) -> Double { ((a * d - 5 * a) * d + 8 * a) * d - 4 * a }
        return [far(t + 1), near(t), near(1 - t), far(2 - t)]
    }
}

extension GridSample: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        GridSampleKernel(taps: taps, padding: padding, alignCorners: alignCorners)
    }
}

// MARK: - AffineGrid

/// AffineGrid: θ (N×2×3 or N×3×4) applied to the normalised positions
/// (x, y[, z], 1) of every element of an output of `size`, x following the
/// last axis; positions are element centres, or corners with align_corners.
struct AffineGridKernel: Kernel {
    let alignCorners: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let theta = try requiredInput(inputs, 0, "theta")
        let size = try ShapeKernels.integers(try requiredInput(inputs, 1, "size"), "size")
        let r = size.count - 2
        guard r == 2 || r == 3, theta.shape == [size[0], r, r + 1], size.allSatisfy({ $0 >= 0 }) else {
            throw ModelError(.invalidGraph, "AffineGrid needs size of 4 or 5 dimensions and θ [N, r, r + 1], got \(size) and \(theta.shape)")
        }
        let dims = Array(size[2...]), points = try ShapeKernels.count(dims)
        let output = try EngineTensor(dtype: theta.dtype, shape: [size[0]] + dims + [r])
        let matrix = try ElementNumbers.doubles(theta), write = try ElementNumbers.writer(theta.dtype)
        var position = [Double](repeating: 1, count: r + 1)
        for p in 0..<points {
            let index = ShapeKernels.multiIndex(p, dims)
            for j in 0..<r {
                let (i, length) = (index[r - 1 - j], dims[r - 1 - j])
                position[j] = alignCorners
                    ? (length > 1 ? -1 + 2 * Double(i) / Double(length - 1) : -1)
                    : -1 + Double(2 * i + 1) / Double(length)
            }
            for n in 0..<size[0] {
                for row in 0..<r {
                    var sum = 0.0
                    for k in 0...r { sum += matrix[(n * r + row) * (r + 1) + k] * position[k] }
                    write(output.buffer.base, (n * points + p) * r + row, sum)
                }
            }
        }
        return [output]
    }
}

extension AffineGrid: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { AffineGridKernel(alignCorners: alignCorners) }
}
