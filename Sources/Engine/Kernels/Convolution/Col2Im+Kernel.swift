import ModelCore

/// Col2Im: sums column blocks `[N, C·∏block, L]` back into images
/// `[N, C, image_shape…]`, undoing a convolution's lowering. Row `c·∏block + t`
/// of the input holds tap `t` of channel `c` (row-major over the block's
/// axes), and column `l` the block at the `l`-th window position (row-major
/// over the positions along each axis); elements that fall in the padding are
/// dropped and overlapping ones add up. Runs on every numeric element type.
struct Col2ImKernel: Kernel {
    let schema: Col2Im

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "Col2Im input")
        let image = try axisSizes(try requiredInput(inputs, 1, "Col2Im image_shape"), "image_shape")
        let block = try axisSizes(try requiredInput(inputs, 2, "Col2Im block_shape"), "block_shape")
        guard x.shape.count == 3 else { throw ModelError(.invalidGraph, "Col2Im input must have rank 3, got shape \(x.shape)") }
        guard !image.isEmpty, block.count == image.count else {
            throw ModelError(.invalidGraph, "Col2Im image_shape \(image) and block_shape \(block) must give the same number (≥ 1) of axes")
        }
        guard block.allSatisfy({ $0 > 0 }) else { throw ModelError(.invalidGraph, "Col2Im block_shape \(block) must be positive") }
        let window = try schema.window(block: block)
        // The window positions along each axis: a Conv's output size over the image.
        let positions = window.outputSpatial(image.map(Dim.known)).compactMap(\.value)
        guard positions.count == image.count, positions.allSatisfy({ $0 > 0 }) else {
            throw ModelError(.invalidGraph, "Col2Im: no block of \(block) fits the image \(image) with the given pads, strides and dilations")
        }
        let taps = try ShapeKernels.count(block)
        let (batch, rows, columns) = (x.shape[0], x.shape[1], x.shape[2])
        guard rows % taps == 0 else { throw ModelError(.invalidGraph, "Col2Im: \(rows) input rows do not divide into blocks of \(taps)") }
        guard Shape.product(positions) == columns else {
            throw ModelError(.invalidGraph, "Col2Im: the input has \(columns) columns but the image holds \(positions) block positions")
        }
        let output = try EngineTensor(dtype: x.dtype, shape: [batch, rows / taps] + image)
        // An empty output needs no table (and its block may be larger than any input row count).
        let targets = try output.count == 0 ? nil
            : Self.targets(window, image: image, positions: positions, pads: window.resolvedPads(input: image, output: positions))
        let scatter = Scatter(x: x, output: output, targets: targets, taps: taps, columns: columns, context: context)
        return [try ElementTypes.visit(x.dtype, scatter, "Col2Im")]
    }

    /// The sizes held by a 1-D integer input, each in 0..<2^31 so that window arithmetic on them cannot overflow.
    private func axisSizes(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> [Int] {
        guard tensor.shape.count == 1 else { throw ModelError(.invalidGraph, "Col2Im \(what) must be 1-D, got shape \(tensor.shape)") }
        let sizes = try ShapeKernels.integers(tensor, "Col2Im \(what)")
        guard sizes.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) else { throw ModelError(.invalidGraph, "Col2Im \(what) \(sizes) must be sizes below 2^31") }
        return sizes
    }

    /// For each (tap, window position), row-major, the offset in one image
    /// plane that the input element adds into, or −1 when it falls in the padding.
    private static func targets(_ window: Window, image: [Int], positions: [Int], pads: [Int]) throws(ModelError) -> EngineTensor {
        let rank = image.count, count = positions.reduce(1, *)
        let shifts = ConvVolume.Lowering.tapShifts(window)
        let table = try EngineTensor(dtype: .int64, shape: [shifts.count * count])
        let target = table.elements(Int64.self)
        var position = [Int](repeating: 0, count: rank)
        for (tap, shift) in shifts.enumerated() {
            for column in 0..<count {
                var offset = 0
                for a in 0..<rank {
                    let i = position[a] * window.strides[a] - pads[a] + shift[a]
                    guard i >= 0, i < image[a] else { offset = -1; break }
                    offset = offset * image[a] + i
                }
                target[tap * count + column] = Int64(offset)
                // The next window position, the last axis fastest.
                var a = rank - 1
                while a >= 0 {
                    position[a] += 1
                    if position[a] < positions[a] { break }
                    position[a] = 0
                    a -= 1
                }
            }
        }
        return table
    }

    /// The sum of each image plane's column rows into it, over one element type.
    struct Scatter: NumberVisitor {
        let x: EngineTensor
        let output: EngineTensor
        /// From `targets`; nil when the output is empty.
        let targets: EngineTensor?
        let taps: Int
        let columns: Int
        let context: ExecutionContext

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            guard let targets else { return output }
            let source = x.elements(T.self), target = output.elements(T.self), table = targets.elements(Int64.self)
            let planes = output.shape[0] * output.shape[1], plane = output.count / planes, perPlane = taps * columns
            target.update(repeating: .zero)
            context.parallelRanges(planes) { range in
                for p in range {
                    let from = source.baseAddress! + p * perPlane, to = target.baseAddress! + p * plane
                    for i in 0..<perPlane where table[i] >= 0 {
                        let t = Int(table[i])
                        to[t] = T.sum(to[t], from[i])
                    }
                }
            }
            return output
        }
    }
}

extension Col2Im: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { Col2ImKernel(schema: self) }
}
