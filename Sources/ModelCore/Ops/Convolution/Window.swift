/// How a convolution or pooling window is padded (`auto_pad`).
public enum AutoPad: String, Sendable {
    case notSet = "NOTSET", sameUpper = "SAME_UPPER", sameLower = "SAME_LOWER", valid = "VALID"

    init(_ reader: AttributeReader) throws(ModelError) {
        let text = try reader.string("auto_pad", default: "NOTSET")
        guard let value = AutoPad(rawValue: text) else { throw reader.error("unknown auto_pad '\(text)'") }
        self = value
    }
}

/// The sliding-window geometry shared by Conv and the pooling operators.
public struct Window: Sendable, Equatable {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    /// Begin pads for every spatial axis, then end pads.
    public var pads: [Int]
    public var autoPad: AutoPad
    public var ceilMode: Bool

    /// A window with explicit pads, for graphs built in code (the zoo).
    public init(kernel: [Int], strides: [Int], pads: [Int], ceilMode: Bool = false) {
        self.kernel = kernel
        self.strides = strides
        dilations = Array(repeating: 1, count: kernel.count)
        self.pads = pads
        autoPad = .notSet
        self.ceilMode = ceilMode
    }

    /// Reads `strides`, `dilations`, `pads`, `auto_pad` for `kernel`.
    init(kernel: [Int], reader: AttributeReader, ceilMode: Bool = false) throws(ModelError) {
        let n = kernel.count
        self.kernel = kernel
        strides = try reader.ints("strides") ?? Array(repeating: 1, count: n)
        dilations = try reader.ints("dilations") ?? Array(repeating: 1, count: n)
        pads = try reader.ints("pads") ?? Array(repeating: 0, count: 2 * n)
        autoPad = try AutoPad(reader)
        self.ceilMode = ceilMode
        guard strides.count == n, dilations.count == n, pads.count == 2 * n else {
            throw reader.error("window attributes do not match the kernel's \(n) spatial axes")
        }
        // Bounded so that window arithmetic on them cannot overflow.
        let limit = 1 << 31
        guard kernel.allSatisfy({ $0 > 0 && $0 < limit }), strides.allSatisfy({ $0 > 0 && $0 < limit }),
              dilations.allSatisfy({ $0 > 0 && $0 < limit }), pads.allSatisfy({ $0 >= 0 && $0 < limit }) else {
            throw reader.error("kernel, strides and dilations must be positive and pads non-negative (all below 2^31)")
        }
    }

    /// Output size of each spatial axis for input sizes `spatial`.
    public func outputSpatial(_ spatial: [Dim]) -> [Dim] {
        spatial.enumerated().map { i, dim in
            guard let size = dim.value, size < 1 << 40 else {
                // A symbolic size survives only where the window keeps it: SAME padding with stride 1.
                return (autoPad == .sameUpper || autoPad == .sameLower) && strides[i] == 1 ? dim : .unknown
            }
            let extent = (kernel[i] - 1) * dilations[i] + 1
            let stride = strides[i]
            switch autoPad {
            case .sameUpper, .sameLower:
                return .known((size + stride - 1) / stride)
            case .valid:
                return .known(size < extent ? 0 : (size - extent) / stride + 1)
            case .notSet:
                let padded = size + pads[i] + pads[i + kernel.count]
                if ceilMode {
                    // ⌈(padded − extent) / stride⌉ + 1: a window wider than the
                    // padded input still gives one output, as in PyTorch and onnxruntime.
                    let span = padded - extent
                    guard span > -stride else { return .known(0) }
                    var out = span >= 0 ? (span + stride - 1) / stride + 1 : 1
                    // The last window must start inside the input or its begin padding.
                    if (out - 1) * stride >= size + pads[i] { out -= 1 }
                    return .known(out)
                }
                guard padded >= extent else { return .known(0) }
                return .known((padded - extent) / stride + 1)
            }
        }
    }

    /// Explicit begin pads for every spatial axis, then end pads, for input
    /// sizes `input` and output sizes `output`: `auto_pad` resolved, SAME
    /// putting the odd pad at the end (SAME_UPPER) or the beginning (SAME_LOWER).
    public func resolvedPads(input: [Int], output: [Int]) -> [Int] {
        let n = kernel.count
        switch autoPad {
        case .notSet: return pads
        case .valid: return Array(repeating: 0, count: 2 * n)
        case .sameUpper, .sameLower:
            var resolved = Array(repeating: 0, count: 2 * n)
            for i in 0..<n {
                let extent = (kernel[i] - 1) * dilations[i] + 1
                let total = max(0, (output[i] - 1) * strides[i] + extent - input[i])
                resolved[i] = autoPad == .sameUpper ? total / 2 : total - total / 2
                resolved[i + n] = total - resolved[i]
            }
            return resolved
        }
    }

    /// This 1-D window as a 2-D one over a height of 1, so that a 1-D
    /// operator runs through the 2-D kernels; other windows are returned as they are.
    public var planar: Window {
        guard kernel.count == 1 else { return self }
        var window = self
        window.kernel = [1, kernel[0]]
        window.strides = [1, strides[0]]
        window.dilations = [1, dilations[0]]
        window.pads = [0, pads[0], 0, pads[1]]
        return window
    }
}
