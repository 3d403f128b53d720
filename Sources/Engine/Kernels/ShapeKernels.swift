#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Kernels that move, select or generate elements: views (Reshape,
/// Squeeze…), copies along index tables (Transpose, Slice, Gather, Pad…),
/// scatters, generators (Range, ConstantOfShape…) and Resize. Copies run on
/// every element type of whole bytes, moving each element's bytes, and on
/// string tensors; the kernels that compute (scatter reductions, Range,
/// linear and cubic Resize) go through `ElementNumbers`.
enum ShapeKernels {}

// MARK: - Inputs, axes and shapes

extension ShapeKernels {
    /// Input `index`, which must be present.
    static func input(_ inputs: [EngineTensor?], _ index: Int, _ what: String) throws(ModelError) -> EngineTensor {
        guard index < inputs.count, let tensor = inputs[index] else { throw ModelError(.invalidGraph, "\(what) is missing") }
        return tensor
    }

    /// Input `index`, or `nil` when it is omitted.
    static func optionalInput(_ inputs: [EngineTensor?], _ index: Int) -> EngineTensor? {
        index < inputs.count ? inputs[index] : nil
    }

    /// The elements of an integer tensor (shapes, axes and indices are int64 or int32).
    static func integers(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> [Int] {
        guard tensor.dtype.kind == .signedInteger || tensor.dtype.kind == .unsignedInteger else {
            throw ModelError(.invalidGraph, "\(what) must hold integers, it is \(tensor.dtype)")
        }
        return try ElementNumbers.integers(tensor)
    }

    /// The single integer of a scalar or one-element tensor.
    static func scalarInteger(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> Int {
        let values = try integers(tensor, what)
        guard values.count == 1 else { throw ModelError(.invalidGraph, "\(what) must hold one element, it holds \(values.count)") }
        return values[0]
    }

    /// `axis` counted from the front (negative axes count from the end).
    static func axis(_ axis: Int, rank: Int) throws(ModelError) -> Int {
        let normalised = axis < 0 ? axis + rank : axis
        guard normalised >= 0 && normalised < rank else { throw ModelError(.invalidGraph, "axis \(axis) is out of range for rank \(rank)") }
        return normalised
    }

    /// Normalised axes, each at most once.
    static func axes(_ axes: [Int], rank: Int) throws(ModelError) -> [Int] {
        var result: [Int] = []
        for a in axes {
            let normalised = try axis(a, rank: rank)
            guard !result.contains(normalised) else { throw ModelError(.invalidGraph, "axis \(a) is repeated") }
            result.append(normalised)
        }
        return result
    }

    /// Row-major strides of `dims`, in elements.
    static func strides(_ dims: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: dims.count)
        var running = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            strides[i] = running
            running &*= dims[i]
        }
        return strides
    }

    /// The element count of `dims`, or an error when it overflows or a dimension is negative.
    static func count(_ dims: [Int]) throws(ModelError) -> Int {
        guard let count = Shape.product(dims) else { throw ModelError(.invalidGraph, "the shape \(dims) is invalid or too large") }
        return count
    }

    /// `index` within `0..<size`, with negative indices counting from the end; throws when outside `-size..<size`.
    static func index(_ index: Int, size: Int) throws(ModelError) -> Int {
        guard index >= -size && index < size else { throw ModelError(.invalidGraph, "index \(index) is out of range for an axis of size \(size)") }
        return index < 0 ? index + size : index
    }

    /// A view of `tensor` under `dims`, which must hold as many elements.
    static func view(_ tensor: EngineTensor, _ dims: [Int]) throws(ModelError) -> EngineTensor {
        guard Shape.product(dims) == tensor.count else {
            throw ModelError(.invalidGraph, "cannot view \(tensor.count) elements as shape \(dims)")
        }
        return tensor.reshaped(dims)
    }

    /// An int64 tensor holding `values`.
    static func int64Tensor(_ values: [Int], shape: [Int]) throws(ModelError) -> EngineTensor {
        let tensor = try EngineTensor(dtype: .int64, shape: shape)
        let target = tensor.elements(Int64.self)
        for (i, v) in values.enumerated() { target[i] = Int64(v) }
        return tensor
    }

    /// The string elements of a string tensor.
    static func strings(of tensor: EngineTensor) -> [[UInt8]] {
        tensor.strings ?? Array(repeating: [], count: tensor.count)
    }

    /// Bytes per element of a whole-byte element type.
    static func width(of dtype: DType) throws(ModelError) -> Int {
        guard let bits = dtype.bitsPerElement, bits % 8 == 0 else {
            throw ModelError(.unsupported(op: nil, dtype: dtype), "the engine runs this operator on strings and whole-byte element types, not \(dtype)")
        }
        return bits / 8
    }

    /// Checks that every part has the element type of the first.
    static func sameType(_ tensors: [EngineTensor], _ what: String) throws(ModelError) {
        guard let first = tensors.first else { return }
        for t in tensors where t.dtype != first.dtype {
            throw ModelError(.invalidGraph, "\(what) mixes \(first.dtype) and \(t.dtype)")
        }
    }

    /// Steps `index` to the next multi-index of `dims` in row-major order.
    @inline(__always)
    static func advance(_ index: inout [Int], _ dims: [Int]) {
        var axis = dims.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < dims[axis] { return }
            index[axis] = 0
            axis -= 1
        }
    }

    /// The multi-index of flat position `flat` in `dims`.
    static func multiIndex(_ flat: Int, _ dims: [Int]) -> [Int] {
        var index = Array(repeating: 0, count: dims.count)
        var rest = flat
        for axis in stride(from: dims.count - 1, through: 0, by: -1) where dims[axis] > 0 {
            index[axis] = rest % dims[axis]
            rest /= dims[axis]
        }
        return index
    }

    /// The table of an axis taken whole: `0, stride, 2·stride, …`.
    static func wholeAxis(_ size: Int, stride: Int) -> [Int] {
        (0..<size).map { $0 * stride }
    }
}

// MARK: - Copying elements of any type

/// One element that fills positions no source element maps to: its bytes, or a string.
enum FillElement: Sendable {
    case bytes([UInt8])
    case string([UInt8])

    /// Element `index` of `tensor`.
    init(_ tensor: EngineTensor, at index: Int) throws(ModelError) {
        guard index < tensor.count else { throw ModelError(.invalidGraph, "the fill value is empty") }
        if tensor.dtype == .string {
            self = .string(ShapeKernels.strings(of: tensor)[index])
            return
        }
        let width = try ShapeKernels.width(of: tensor.dtype)
        self = .bytes(Array(UnsafeRawBufferPointer(start: tensor.buffer.base + index * width, count: width)))
    }

    /// The zero (or empty string) of `dtype`.
    init(zeroOf dtype: DType) throws(ModelError) {
        self = dtype == .string ? .string([]) : .bytes(Array(repeating: 0, count: try ShapeKernels.width(of: dtype)))
    }
}

/// A tensor being assembled by a copying kernel: aligned memory whose
/// elements are moved as raw bytes of their width, or an array of strings.
struct ElementOutput {
    let dtype: DType
    let shape: [Int]
    let count: Int
    /// Bytes per element; 0 for strings.
    let width: Int
    let buffer: TensorBuffer
    private(set) var strings: [[UInt8]]

    init(dtype: DType, shape: [Int]) throws(ModelError) {
        let count = try ShapeKernels.count(shape)
        self.dtype = dtype
        self.shape = shape
        self.count = count
        if dtype == .string {
            width = 0
            buffer = TensorBuffer(byteCount: 0)
            strings = Array(repeating: [], count: count)
        } else {
            width = try ShapeKernels.width(of: dtype)
            let (bytes, overflow) = count.multipliedReportingOverflow(by: width)
            guard !overflow else { throw ModelError(.limit, "a \(dtype) tensor of shape \(shape) is too large") }
            buffer = TensorBuffer(byteCount: bytes)
            strings = []
        }
    }

    /// A copy of `tensor`, to be modified (scatters write into it).
    init(copying tensor: EngineTensor) throws(ModelError) {
        try self.init(dtype: tensor.dtype, shape: tensor.shape)
        copy(from: tensor, 0, to: 0, count: count)
    }

    /// Copies `n` consecutive elements of `source`, starting at element `from`, to element `to` onwards.
    mutating func copy(from source: EngineTensor, _ from: Int, to: Int, count n: Int) {
        guard n > 0 else { return }
        if width == 0 {
            strings.replaceSubrange(to..<(to + n), with: ShapeKernels.strings(of: source)[from..<(from + n)])
        } else {
            (buffer.base + to * width).copyMemory(from: source.buffer.base + from * width, byteCount: n * width)
        }
    }

    /// Writes `element` at `n` consecutive positions from `to`.
    mutating func fill(_ element: FillElement, at to: Int, count n: Int) {
        guard n > 0 else { return }
        switch element {
        case .string(let s):
            strings.replaceSubrange(to..<(to + n), with: repeatElement(s, count: n))
        case .bytes(let bytes):
            if bytes.allSatisfy({ $0 == 0 }) {
                (buffer.base + to * width).initializeMemory(as: UInt8.self, repeating: 0, count: n * width)
                return
            }
            bytes.withUnsafeBytes { element in
                for i in 0..<n { (buffer.base + (to + i) * width).copyMemory(from: element.baseAddress!, byteCount: width) }
            }
        }
    }

    /// The finished tensor.
    var tensor: EngineTensor {
        width == 0 ? EngineTensor(strings: strings, shape: shape) : EngineTensor(dtype: dtype, shape: shape, buffer: buffer)
    }
}

extension ShapeKernels {
    /// A new tensor of `dims` (viewed as `shape` when given) built from
    /// `source` along per-axis offset tables: the element at multi-index
    /// (i₀, …, iₙ₋₁) is `source`'s element at offset Σₖ table(k)[iₖ], or
    /// `fill` (zero by default) where an entry is negative. Transpose, Slice,
    /// Expand, Tile, Pad, Gather and nearest Resize are such tables; a last
    /// table of consecutive offsets is copied as whole rows. The output is
    /// allocated before the tables are built, so that a size that cannot be
    /// allocated fails before tables for it are made.
    static func tableCopy(_ source: EngineTensor, dims: [Int], shape: [Int]? = nil, fill: FillElement? = nil, context: ExecutionContext,
                          table: (Int) throws(ModelError) -> [Int]) throws(ModelError) -> EngineTensor {
        let output = try ElementOutput(dtype: source.dtype, shape: shape ?? dims)
        guard Shape.product(dims) == output.count else {
            throw ModelError(.internal, "internal: index tables \(dims) do not match the output shape \(output.shape)")
        }
        if output.count == 0 { return output.tensor }
        var tables: [[Int]] = []
        for k in dims.indices {
            let entries = try table(k)
            guard entries.count == dims[k] else { throw ModelError(.internal, "internal: index table \(k) has \(entries.count) entries for \(dims[k])") }
            tables.append(entries)
        }
        // A scalar is one row of one element.
        if tables.isEmpty { tables = [[0]] }
        let filler: FillElement
        if let fill { filler = fill } else { filler = try FillElement(zeroOf: source.dtype) }
        let inner = tables[tables.count - 1], n = inner.count
        let outer = Array(tables.dropLast()), outerDims = outer.map(\.count)
        let rows = output.count / n

        if output.width == 0 {
            let strings = Self.strings(of: source)
            var values: [[UInt8]] = []
            values.reserveCapacity(output.count)
            guard case .string(let fillString) = filler else { throw ModelError(.internal, "internal: a string tensor needs a string fill") }
            var index = Array(repeating: 0, count: outer.count)
            for _ in 0..<rows {
                var base = 0, outside = false
                for k in 0..<outer.count {
                    let e = outer[k][index[k]]
                    outside = outside || e < 0
                    base += e
                }
                for e in inner { values.append(outside || e < 0 ? fillString : strings[base + e]) }
                advance(&index, outerDims)
            }
            return EngineTensor(strings: values, shape: output.shape)
        }

        guard case .bytes(let fillBytes) = filler else { throw ModelError(.internal, "internal: a numeric tensor needs a numeric fill") }
        let width = output.width
        let run = inner[0] >= 0 && inner.indices.allSatisfy { inner[$0] == inner[0] + $0 }
        let source = UnsafeRawPointer(source.buffer.base), target = output.buffer.base
        context.parallelRanges(rows, grain: max(1, 32768 / max(1, n * width))) { range in
            var index = multiIndex(range.lowerBound, outerDims)
            for row in range {
                var base = 0, outside = false
                for k in 0..<outer.count {
                    let e = outer[k][index[k]]
                    outside = outside || e < 0
                    base += e
                }
                let destination = target + row * n * width
                if run && !outside {
                    destination.copyMemory(from: source + (base + inner[0]) * width, byteCount: n * width)
                } else {
                    switch width {
                    case 1: copyRow(UInt8.self, destination, source, base: base, inner, outside: outside, fill: fillBytes)
                    case 2: copyRow(UInt16.self, destination, source, base: base, inner, outside: outside, fill: fillBytes)
                    case 4: copyRow(UInt32.self, destination, source, base: base, inner, outside: outside, fill: fillBytes)
                    case 8: copyRow(UInt64.self, destination, source, base: base, inner, outside: outside, fill: fillBytes)
                    default:
                        fillBytes.withUnsafeBytes { fill in
                            for (j, e) in inner.enumerated() {
                                let from = outside || e < 0 ? fill.baseAddress! : source + (base + e) * width
                                (destination + j * width).copyMemory(from: from, byteCount: width)
                            }
                        }
                    }
                }
                advance(&index, outerDims)
            }
        }
        return output.tensor
    }

    /// One row of a table copy for elements of `T`'s width.
    @inline(__always)
    private static func copyRow<T>(_ type: T.Type, _ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer,
                                   base: Int, _ offsets: [Int], outside: Bool, fill: [UInt8]) {
        let value = fill.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
        let size = MemoryLayout<T>.size
        for (j, e) in offsets.enumerated() {
            let element = outside || e < 0 ? value : source.loadUnaligned(fromByteOffset: (base + e) * size, as: T.self)
            destination.storeBytes(of: element, toByteOffset: j * size, as: T.self)
        }
    }

    /// `source` with its axes permuted (output axis k is source axis perm[k]), for a view of `dims`.
    static func permuted(_ source: EngineTensor, dims: [Int], perm: [Int], context: ExecutionContext) throws(ModelError) -> EngineTensor {
        let strides = strides(dims)
        return try tableCopy(source, dims: perm.map { dims[$0] }, context: context) { k in wholeAxis(dims[perm[k]], stride: strides[perm[k]]) }
    }
}

// MARK: - Numbers of any numeric type

/// Element values of numeric tensors as Double or Int, for the few kernels
/// that compute: reading converts from the tensor's type, writing converts
/// to it (rounding to nearest, saturating for integers).
enum ElementNumbers {
    /// Reads element `i` of storage of one element type as Double.
    typealias Reader = @Sendable (UnsafeRawPointer, Int) -> Double
    /// Writes a Double, converted, as element `i` of storage of one element type.
    typealias Writer = @Sendable (UnsafeMutableRawPointer, Int, Double) -> Void

    /// How elements of `dtype` are read as Double.
    static func reader(_ dtype: DType) throws(ModelError) -> Reader {
        func read<T>(_ type: T.Type, _ convert: @escaping @Sendable (T) -> Double) -> Reader {
            { base, i in convert(base.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
        }
        switch dtype {
        case .float: return read(Float.self) { Double($0) }
        case .double: return read(Double.self) { $0 }
        case .float16: return read(UInt16.self) { Double(Float16(bitPattern: $0)) }
        case .bfloat16: return read(UInt16.self) { Double(Float(bitPattern: UInt32($0) << 16)) }
        case .int8: return read(Int8.self) { Double($0) }
        case .int16: return read(Int16.self) { Double($0) }
        case .int32: return read(Int32.self) { Double($0) }
        case .int64: return read(Int64.self) { Double($0) }
        case .uint8: return read(UInt8.self) { Double($0) }
        case .uint16: return read(UInt16.self) { Double($0) }
        case .uint32: return read(UInt32.self) { Double($0) }
        case .uint64: return read(UInt64.self) { Double($0) }
        case .bool: return read(UInt8.self) { $0 != 0 ? 1 : 0 }
        default: throw ModelError(.unsupported(op: nil, dtype: dtype), "the engine runs this operator on real numbers, not \(dtype)")
        }
    }

    /// How Doubles are written as elements of `dtype`: rounded to nearest
    /// (even on ties), integers saturating and NaN becoming 0, as a saturating cast does.
    static func writer(_ dtype: DType) throws(ModelError) -> Writer {
        func write<T>(_ type: T.Type, _ convert: @escaping @Sendable (Double) -> T) -> Writer {
            { base, i, v in base.storeBytes(of: convert(v), toByteOffset: i * MemoryLayout<T>.size, as: T.self) }
        }
        switch dtype {
        case .float: return write(Float.self) { Float($0) }
        case .double: return write(Double.self) { $0 }
        case .float16: return write(UInt16.self) { Float16($0).bitPattern }
        case .bfloat16: return write(UInt16.self) { bfloat16(Float($0)) }
        case .int8: return write(Int8.self) { saturated($0) }
        case .int16: return write(Int16.self) { saturated($0) }
        case .int32: return write(Int32.self) { saturated($0) }
        case .int64: return write(Int64.self) { saturated($0) }
        case .uint8: return write(UInt8.self) { saturated($0) }
        case .uint16: return write(UInt16.self) { saturated($0) }
        case .uint32: return write(UInt32.self) { saturated($0) }
        case .uint64: return write(UInt64.self) { saturated($0) }
        case .bool: return write(UInt8.self) { $0 != 0 ? 1 : 0 }
        default: throw ModelError(.unsupported(op: nil, dtype: dtype), "the engine runs this operator on real numbers, not \(dtype)")
        }
    }

    /// `value` rounded to nearest (even on ties) and clamped to `T`'s range; NaN gives 0.
    static func saturated<T: FixedWidthInteger>(_ value: Double) -> T {
        if value.isNaN { return 0 }
        return T(clamping: Int64(exactly: value.rounded(.toNearestOrEven)) ?? (value < 0 ? .min : .max))
    }

    /// The elements as Double.
    static func doubles(_ tensor: EngineTensor) throws(ModelError) -> [Double] {
        let read = try reader(tensor.dtype), base = UnsafeRawPointer(tensor.buffer.base)
        return (0..<tensor.count).map { read(base, $0) }
    }

    /// The elements of an integer or bool tensor as Int (uint64 beyond Int.max wraps).
    static func integers(_ tensor: EngineTensor) throws(ModelError) -> [Int] {
        let base = UnsafeRawPointer(tensor.buffer.base), n = tensor.count
        func read<T: BinaryInteger>(_ type: T.Type) -> [Int] {
            (0..<n).map { Int(truncatingIfNeeded: base.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
        switch tensor.dtype {
        case .int8: return read(Int8.self)
        case .int16: return read(Int16.self)
        case .int32: return read(Int32.self)
        case .int64: return read(Int64.self)
        case .uint8, .bool: return read(UInt8.self)
        case .uint16: return read(UInt16.self)
        case .uint32: return read(UInt32.self)
        case .uint64: return read(UInt64.self)
        default: throw ModelError(.unsupported(op: nil, dtype: tensor.dtype), "the engine runs this operator on integers, not \(tensor.dtype)")
        }
    }

    /// A tensor of `dtype` holding `values`, converted.
    static func tensor(_ values: [Double], dtype: DType, shape: [Int]) throws(ModelError) -> EngineTensor {
        let write = try writer(dtype)
        let tensor = try EngineTensor(dtype: dtype, shape: shape)
        for (i, v) in values.prefix(tensor.count).enumerated() { write(tensor.buffer.base, i, v) }
        return tensor
    }

    /// An integer tensor of `dtype` holding `values`, wrapped to its width.
    static func tensor(integers values: [Int], dtype: DType, shape: [Int]) throws(ModelError) -> EngineTensor {
        let tensor = try EngineTensor(dtype: dtype, shape: shape)
        let base = tensor.buffer.base
        func write<T: FixedWidthInteger>(_ type: T.Type) {
            for (i, v) in values.enumerated() { base.storeBytes(of: T(truncatingIfNeeded: v), toByteOffset: i * MemoryLayout<T>.size, as: T.self) }
        }
        switch dtype {
        case .int8: write(Int8.self)
        case .int16: write(Int16.self)
        case .int32: write(Int32.self)
        case .int64: write(Int64.self)
        case .uint8: write(UInt8.self)
        case .uint16: write(UInt16.self)
        case .uint32: write(UInt32.self)
        case .uint64: write(UInt64.self)
        default: throw ModelError(.unsupported(op: nil, dtype: dtype), "the engine runs this operator on integers, not \(dtype)")
        }
        return tensor
    }

    /// One element of `dtype` holding `value`.
    static func element(_ value: Double, dtype: DType) throws(ModelError) -> FillElement {
        if dtype == .string { return .string([]) }
        return try FillElement(tensor([value], dtype: dtype, shape: []), at: 0)
    }

    /// The bfloat16 bits of `value`, rounded to nearest even.
    static func bfloat16(_ value: Float) -> UInt16 {
        if value.isNaN { return 0x7FC0 }
        let bits = value.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}

// MARK: - Views

/// Reshape: a view under the target shape, where `0` copies the input's
/// dimension (unless `allowzero`) and one `-1` takes what the others leave.
struct ReshapeKernel: Kernel {
    let shapeAttribute: [Int]?
    let allowZero: Bool

    init(_ schema: Reshape, _ setup: KernelSetup) throws(ModelError) {
        shapeAttribute = schema.shapeAttribute
        allowZero = schema.allowZero
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data")
        var target = shapeAttribute ?? []
        if shapeAttribute == nil { target = try ShapeKernels.integers(try ShapeKernels.input(inputs, 1, "shape"), "shape") }
        var dims: [Int] = []
        var inferred: Int?
        for (i, d) in target.enumerated() {
            switch d {
            case -1:
                guard inferred == nil else { throw ModelError(.invalidGraph, "the target shape \(target) has more than one -1") }
                inferred = i
                dims.append(1)
            case 0 where !allowZero:
                guard i < data.shape.count else { throw ModelError(.invalidGraph, "target dimension \(i) copies from a rank-\(data.shape.count) input") }
                dims.append(data.shape[i])
            case ..<0:
                throw ModelError(.invalidGraph, "the target shape \(target) has the invalid dimension \(d)")
            default:
                dims.append(d)
            }
        }
        if let inferred {
            let rest = try ShapeKernels.count(dims)
            guard rest != 0 ? data.count % rest == 0 : data.count == 0 else {
                throw ModelError(.invalidGraph, "cannot reshape \(data.count) elements into \(target)")
            }
            dims[inferred] = rest == 0 ? 0 : data.count / rest
        }
        return [try ShapeKernels.view(data, dims)]
    }
}

/// Flatten to 2-D at `axis`: a view.
struct FlattenKernel: Kernel {
    let axis: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try ShapeKernels.input(inputs, 0, "input")
        let a = axis < 0 ? axis + x.shape.count : axis
        guard a >= 0, a <= x.shape.count else { throw ModelError(.invalidGraph, "axis \(axis) is out of range for rank \(x.shape.count)") }
        return [x.reshaped([x.shape.prefix(a).reduce(1, *), x.shape.dropFirst(a).reduce(1, *)])]
    }
}

/// Squeeze: a view without the listed size-1 axes (attribute before opset 13, input 1 from it), or without every size-1 axis.
struct SqueezeKernel: Kernel {
    let axesAttribute: [Int]?

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data")
        var given = axesAttribute
        if given == nil, let axes = ShapeKernels.optionalInput(inputs, 1) { given = try ShapeKernels.integers(axes, "axes") }
        let rank = data.shape.count
        let removed: [Int]
        if let given, !given.isEmpty {
            removed = try ShapeKernels.axes(given, rank: rank)
            for a in removed where data.shape[a] != 1 {
                throw ModelError(.invalidGraph, "cannot squeeze axis \(a) of size \(data.shape[a])")
            }
        } else {
            removed = data.shape.indices.filter { data.shape[$0] == 1 }
        }
        return [data.reshaped(data.shape.indices.filter { !removed.contains($0) }.map { data.shape[$0] })]
    }
}

/// Unsqueeze: a view with size-1 axes inserted at the listed output axes (attribute before opset 13, input 1 from it).
struct UnsqueezeKernel: Kernel {
    let axesAttribute: [Int]?

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data")
        var given = axesAttribute ?? []
        if axesAttribute == nil { given = try ShapeKernels.integers(try ShapeKernels.input(inputs, 1, "axes"), "axes") }
        let rank = data.shape.count + given.count
        let inserted = try ShapeKernels.axes(given, rank: rank)
        var remaining = data.shape.makeIterator()
        let dims = (0..<rank).map { inserted.contains($0) ? 1 : remaining.next() ?? 1 }
        return [data.reshaped(dims)]
    }
}

// MARK: - Rearranging copies

/// Transpose: output axis k is input axis perm[k] (reversed by default).
struct TransposeKernel: Kernel {
    let perm: [Int]?

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data")
        let rank = data.shape.count
        let order = perm ?? Array((0..<rank).reversed())
        guard order.count == rank else { throw ModelError(.invalidGraph, "perm has \(order.count) axes, the input \(rank)") }
        return [try ShapeKernels.permuted(data, dims: data.shape, perm: order, context: context)]
    }
}

/// Concat: the inputs joined along `axis`.
struct ConcatKernel: Kernel {
    let axis: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var parts: [EngineTensor] = []
        for i in inputs.indices { parts.append(try ShapeKernels.input(inputs, i, "input \(i)")) }
        guard let first = parts.first else { throw ModelError(.invalidGraph, "Concat has no inputs") }
        try ShapeKernels.sameType(parts, "Concat")
        let rank = first.shape.count
        let a = try ShapeKernels.axis(axis, rank: rank)
        var dims = first.shape
        dims[a] = 0
        for part in parts {
            guard part.shape.count == rank,
                  part.shape.indices.allSatisfy({ $0 == a || part.shape[$0] == first.shape[$0] }) else {
                throw ModelError(.invalidGraph, "cannot join shapes \(first.shape) and \(part.shape) along axis \(a)")
            }
            dims[a] += part.shape[a]
        }
        var output = try ElementOutput(dtype: first.dtype, shape: dims)
        let outer = dims[..<a].reduce(1, *), inner = dims[(a + 1)...].reduce(1, *)
        var offset = 0
        for o in 0..<outer {
            for part in parts {
                let block = part.shape[a] * inner
                output.copy(from: part, o * block, to: offset, count: block)
                offset += block
            }
        }
        return [output.tensor]
    }
}

/// Split: consecutive parts along `axis`, sized by input 1, the `split`
/// attribute, `num_outputs` (the last part smaller) or equally.
struct SplitKernel: Kernel {
    let axis: Int
    let splitAttribute: [Int]?
    let unevenLast: Bool
    let outputCount: Int

    init(_ schema: Split, _ setup: KernelSetup) throws(ModelError) {
        axis = schema.axis
        splitAttribute = schema.splitAttribute
        unevenLast = schema.numOutputs != nil
        outputCount = setup.node.outputs.count
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "input")
        let a = try ShapeKernels.axis(axis, rank: data.shape.count)
        let size = data.shape[a], n = outputCount
        var sizes: [Int]
        if let given = try ShapeKernels.optionalInput(inputs, 1).map({ t throws(ModelError) in try ShapeKernels.integers(t, "split") }) ?? splitAttribute {
            sizes = given
        } else if unevenLast {
            let chunk = (size + n - 1) / n
            sizes = (0..<n).map { max(0, min(chunk, size - $0 * chunk)) }
        } else {
            guard size % n == 0 else { throw ModelError(.invalidGraph, "cannot split \(size) into \(n) equal parts") }
            sizes = Array(repeating: size / n, count: n)
        }
        guard sizes.count == n, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == size else {
            throw ModelError(.invalidGraph, "split sizes \(sizes) do not cut \(size) into \(n) parts")
        }
        let outer = data.shape[..<a].reduce(1, *), inner = data.shape[(a + 1)...].reduce(1, *)
        var results: [EngineTensor?] = []
        var start = 0
        for length in sizes {
            var dims = data.shape
            dims[a] = length
            var output = try ElementOutput(dtype: data.dtype, shape: dims)
            for o in 0..<outer {
                output.copy(from: data, (o * size + start) * inner, to: o * length * inner, count: length * inner)
            }
            results.append(output.tensor)
            start += length
        }
        return results
    }
}

/// Slice: strided windows along some axes, NumPy-clamped; negative steps walk backwards.
struct SliceKernel: Kernel {
    /// `(starts, ends, axes)` from the attributes of opsets 1–9; later opsets take them as inputs.
    let attributes: (starts: [Int], ends: [Int], axes: [Int]?)?

    init(_ schema: Slice, _ setup: KernelSetup) throws(ModelError) {
        attributes = schema.attributes
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data")
        let starts: [Int], ends: [Int], axesGiven: [Int]?, steps: [Int]?
        if let attributes {
            (starts, ends, axesGiven, steps) = (attributes.starts, attributes.ends, attributes.axes, nil)
        } else {
            starts = try ShapeKernels.integers(try ShapeKernels.input(inputs, 1, "starts"), "starts")
            ends = try ShapeKernels.integers(try ShapeKernels.input(inputs, 2, "ends"), "ends")
            axesGiven = try ShapeKernels.optionalInput(inputs, 3).map { t throws(ModelError) in try ShapeKernels.integers(t, "axes") }
            steps = try ShapeKernels.optionalInput(inputs, 4).map { t throws(ModelError) in try ShapeKernels.integers(t, "steps") }
        }
        let rank = data.shape.count
        let axes = try ShapeKernels.axes(axesGiven ?? Array(0..<starts.count), rank: rank)
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, stepList.count == starts.count else {
            throw ModelError(.invalidGraph, "starts, ends, axes and steps have \(starts.count), \(ends.count), \(axes.count) and \(stepList.count) elements")
        }
        let strides = ShapeKernels.strides(data.shape)
        var windows = data.shape.map { (first: 0, step: 1, count: $0) }
        for (k, a) in axes.enumerated() {
            windows[a] = try Self.window(start: starts[k], end: ends[k], step: stepList[k], size: data.shape[a])
        }
        return [try ShapeKernels.tableCopy(data, dims: windows.map(\.count), context: context) { a in
            let w = windows[a]
            return (0..<w.count).map { (w.first + $0 * w.step) * strides[a] }
        }]
    }

    /// The first index, step and element count of one sliced axis, clamped as NumPy does.
    static func window(start: Int, end: Int, step: Int, size: Int) throws(ModelError) -> (first: Int, step: Int, count: Int) {
        guard step != 0 else { throw ModelError(.invalidGraph, "a slice step is zero") }
        let s = start < 0 ? start &+ size : start, e = end < 0 ? end &+ size : end
        if step > 0 {
            let first = min(max(s, 0), size), last = min(max(e, 0), size)
            return (first, step, last > first ? (last - first - 1) / step + 1 : 0)
        }
        let first = min(max(s, 0), size - 1), last = min(max(e, -1), size - 1)
        let magnitude = step == .min ? Int.max : -step
        return (first, step, first > last ? (first - last - 1) / magnitude + 1 : 0)
    }
}

/// Expand: the input broadcast to a shape (NumPy rules, so a 1 in the target keeps the input's dimension).
struct ExpandKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "input")
        let target = try ShapeKernels.integers(try ShapeKernels.input(inputs, 1, "shape"), "shape")
        let rank = max(data.shape.count, target.count)
        let padded = Array(repeating: 1, count: rank - data.shape.count) + data.shape
        let wanted = Array(repeating: 1, count: rank - target.count) + target
        var dims: [Int] = []
        for (a, b) in zip(padded, wanted) {
            guard a == b || a == 1 || b == 1, b >= 0 else { throw ModelError(.invalidGraph, "cannot broadcast \(data.shape) to \(target)") }
            dims.append(a == 1 ? b : a)
        }
        let strides = ShapeKernels.strides(padded)
        return [try ShapeKernels.tableCopy(data, dims: dims, context: context) { k in
            padded[k] == 1 ? Array(repeating: 0, count: dims[k]) : ShapeKernels.wholeAxis(dims[k], stride: strides[k])
        }]
    }
}

/// Tile: the input repeated along every axis (`repeats`, input 1); opsets 1–5 take a `tiles` count and an `axis`.
struct TileKernel: Kernel {
    let legacy: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "input")
        let rank = data.shape.count
        var repeats = Array(repeating: 1, count: rank)
        if legacy {
            let tiles = try Self.wholeNumber(try ShapeKernels.input(inputs, 1, "tiles"), "tiles")
            let axis = try Self.wholeNumber(try ShapeKernels.input(inputs, 2, "axis"), "axis")
            repeats[try ShapeKernels.axis(axis, rank: rank)] = tiles
        } else {
            repeats = try ShapeKernels.integers(try ShapeKernels.input(inputs, 1, "repeats"), "repeats")
        }
        guard repeats.count == rank, repeats.allSatisfy({ $0 >= 0 }) else {
            throw ModelError(.invalidGraph, "repeats \(repeats) must give a non-negative count for each of the \(rank) axes")
        }
        let strides = ShapeKernels.strides(data.shape)
        var dims: [Int] = []
        for k in 0..<rank {
            let (size, overflow) = data.shape[k].multipliedReportingOverflow(by: repeats[k])
            guard !overflow else { throw ModelError(.invalidGraph, "tiling \(data.shape) by \(repeats) overflows") }
            dims.append(size)
        }
        return [try ShapeKernels.tableCopy(data, dims: dims, context: context) { k in
            (0..<dims[k]).map { ($0 % data.shape[k]) * strides[k] }
        }]
    }

    /// The one whole number a scalar holds (opset 1 gives `tiles` and `axis` in the data's floating-point type).
    static func wholeNumber(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> Int {
        let values = try ElementNumbers.doubles(tensor)
        guard values.count == 1, let value = Int(exactly: values[0]) else { throw ModelError(.invalidGraph, "\(what) must be one whole number") }
        return value
    }
}

/// Pad: elements added (or, for negative pads, removed) at both ends of
/// axes, filled with a constant or taken from the input by reflection, the
/// edge element or wrapping around.
struct PadKernel: Kernel {
    let mode: String
    let padsAttribute: [Int]?
    /// The fill of opsets 1–10 (the `value` attribute); later opsets take input 2.
    let valueAttribute: Float

    init(_ schema: Pad, _ setup: KernelSetup) throws(ModelError) {
        mode = schema.mode
        padsAttribute = schema.padsAttribute
        valueAttribute = setup.opset < 11 ? try AttributeReader(setup.node).float("value", default: 0) : 0
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data")
        let rank = data.shape.count
        var pads = padsAttribute ?? []
        if padsAttribute == nil { pads = try ShapeKernels.integers(try ShapeKernels.input(inputs, 1, "pads"), "pads") }
        let axes = try ShapeKernels.optionalInput(inputs, 3).map { t throws(ModelError) in
            try ShapeKernels.axes(try ShapeKernels.integers(t, "axes"), rank: rank)
        } ?? Array(0..<rank)
        guard pads.count == 2 * axes.count else { throw ModelError(.invalidGraph, "pads has \(pads.count) elements for \(axes.count) axes") }
        var fill = try FillElement(zeroOf: data.dtype)
        if let value = ShapeKernels.optionalInput(inputs, 2), value.count > 0 {
            guard value.dtype == data.dtype else { throw ModelError(.invalidGraph, "constant_value is \(value.dtype), the data \(data.dtype)") }
            fill = try FillElement(value, at: 0)
        } else if padsAttribute != nil {
            fill = try ElementNumbers.element(Double(valueAttribute), dtype: data.dtype)
        }
        var before = Array(repeating: 0, count: rank), after = Array(repeating: 0, count: rank)
        for (k, a) in axes.enumerated() {
            before[a] = pads[k]
            after[a] = pads[k + axes.count]
        }
        // Pads come from data: bounded so that the sizes below cannot overflow.
        guard pads.allSatisfy({ $0 >= -Int(Int32.max) && $0 <= Int(Int32.max) }) else { throw ModelError(.invalidGraph, "pads \(pads) are out of range") }
        let strides = ShapeKernels.strides(data.shape)
        var regions: [(low: Int, kept: Int, before: Int)] = [], dims: [Int] = []
        for a in 0..<rank {
            // Negative pads crop first; the kept region is then padded by the mode.
            let low = max(0, -before[a]), high = data.shape[a] - max(0, -after[a])
            let kept = high - low, padBefore = max(0, before[a]), padAfter = max(0, after[a])
            guard kept >= 0 else { throw ModelError(.invalidGraph, "pads remove more than axis \(a) holds") }
            let size = kept + padBefore + padAfter
            if kept == 0 && size > 0 && mode != "constant" {
                throw ModelError(.invalidGraph, "\(mode) padding needs a non-empty axis \(a)")
            }
            regions.append((low, kept, padBefore))
            dims.append(size)
        }
        let mode = self.mode
        return [try ShapeKernels.tableCopy(data, dims: dims, fill: fill, context: context) { a in
            let region = regions[a]
            return (0..<dims[a]).map { i in
                guard let source = Self.source(i - region.before, size: region.kept, mode: mode) else { return -1 }
                return (source + region.low) * strides[a]
            }
        }]
    }

    /// The index within an axis of `size` that position `i` (relative to the axis start) takes; `nil` for the constant.
    static func source(_ i: Int, size: Int, mode: String) -> Int? {
        if i >= 0 && i < size { return i }
        switch mode {
        case "edge":
            return min(max(i, 0), size - 1)
        case "reflect":
            guard size > 1 else { return 0 }
            let period = 2 * (size - 1)
            var r = i % period
            if r < 0 { r += period }
            return r < size ? r : period - r
        case "wrap":
            let r = i % size
            return r < 0 ? r + size : r
        default:
            return nil
        }
    }
}

/// DepthToSpace and SpaceToDepth: channel blocks moved to and from
/// `blocksize`² spatial positions, in DCR or CRD order; a reshape, a
/// transpose and a reshape.
struct BlockRearrangeKernel: Kernel {
    let blockSize: Int
    let columnRowDepth: Bool
    let toDepth: Bool

    init(blockSize: Int, _ setup: KernelSetup, toDepth: Bool) throws(ModelError) {
        self.blockSize = blockSize
        columnRowDepth = try AttributeReader(setup.node).string("mode", default: "DCR") == "CRD"
        self.toDepth = toDepth
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try ShapeKernels.input(inputs, 0, "input")
        guard x.shape.count == 4 else { throw ModelError(.invalidGraph, "the input must be 4-D, it has rank \(x.shape.count)") }
        let (n, c, h, w, b) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], blockSize)
        if toDepth {
            guard h % b == 0, w % b == 0 else { throw ModelError(.invalidGraph, "\(h)×\(w) does not divide into blocks of \(b)") }
            let dims = [n, c, h / b, b, w / b, b]
            let perm = columnRowDepth ? [0, 1, 3, 5, 2, 4] : [0, 3, 5, 1, 2, 4]
            return [try ShapeKernels.permuted(x, dims: dims, perm: perm, context: context).reshaped([n, c * b * b, h / b, w / b])]
        }
        guard c % (b * b) == 0 else { throw ModelError(.invalidGraph, "\(c) channels do not divide into blocks of \(b * b)") }
        let depth = c / (b * b)
        let dims = columnRowDepth ? [n, depth, b, b, h, w] : [n, b, b, depth, h, w]
        let perm = columnRowDepth ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2]
        return [try ShapeKernels.permuted(x, dims: dims, perm: perm, context: context).reshaped([n, depth, h * b, w * b])]
    }
}

/// ReverseSequence: each batch entry's first `sequence_lens` time steps reversed, the rest kept.
struct ReverseSequenceKernel: Kernel {
    let batchAxis: Int
    let timeAxis: Int

    init(_ schema: ReverseSequence, _ setup: KernelSetup) throws(ModelError) {
        batchAxis = schema.batchAxis
        timeAxis = schema.timeAxis
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try ShapeKernels.input(inputs, 0, "input")
        let lengths = try ShapeKernels.integers(try ShapeKernels.input(inputs, 1, "sequence_lens"), "sequence_lens")
        guard x.shape.count >= 2 else { throw ModelError(.invalidGraph, "the input must have rank 2 or more") }
        let batch = x.shape[batchAxis], time = x.shape[timeAxis]
        guard lengths.count == batch, lengths.allSatisfy({ $0 >= 0 && $0 <= time }) else {
            throw ModelError(.invalidGraph, "sequence_lens must give a length of at most \(time) for each of the \(batch) batch entries")
        }
        let strides = ShapeKernels.strides(x.shape), inner = x.shape.dropFirst(2).reduce(1, *)
        var output = try ElementOutput(dtype: x.dtype, shape: x.shape)
        for b in 0..<batch {
            for t in 0..<time {
                let source = t < lengths[b] ? lengths[b] - 1 - t : t
                output.copy(from: x, b * strides[batchAxis] + source * strides[timeAxis],
                            to: b * strides[batchAxis] + t * strides[timeAxis], count: inner)
            }
        }
        return [output.tensor]
    }
}

// MARK: - Gathers and scatters

/// Gather: entries along `axis` picked by index (negative indices count from the end).
struct GatherKernel: Kernel {
    let axis: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data"), indices = try ShapeKernels.input(inputs, 1, "indices")
        let a = try ShapeKernels.axis(axis, rank: data.shape.count)
        let size = data.shape[a]
        let strides = ShapeKernels.strides(data.shape)
        var picks: [Int] = []
        for i in try ShapeKernels.integers(indices, "indices") { picks.append(try ShapeKernels.index(i, size: size) * strides[a]) }
        var dims = data.shape
        dims[a] = picks.count
        let shape = Array(data.shape[..<a]) + indices.shape + Array(data.shape[(a + 1)...])
        return [try ShapeKernels.tableCopy(data, dims: dims, shape: shape, context: context) { k in
            k == a ? picks : ShapeKernels.wholeAxis(dims[k], stride: strides[k])
        }]
    }
}

/// GatherElements: one data element per index, the index replacing the position along `axis`.
struct GatherElementsKernel: Kernel {
    let axis: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data"), indices = try ShapeKernels.input(inputs, 1, "indices")
        let rank = data.shape.count
        let a = try ShapeKernels.axis(axis, rank: rank)
        let offsets = try ElementIndexing(data: data.shape, indices: indices.shape, axis: a)
            .offsets(try ShapeKernels.integers(indices, "indices"))
        var output = try ElementOutput(dtype: data.dtype, shape: indices.shape)
        for (i, offset) in offsets.enumerated() { output.copy(from: data, offset, to: i, count: 1) }
        return [output.tensor]
    }
}

/// The data offsets GatherElements and ScatterElements address: an index
/// tensor's own position with the element's index along `axis`.
struct ElementIndexing {
    let data: [Int]
    let indices: [Int]
    let axis: Int

    init(data: [Int], indices: [Int], axis: Int) throws(ModelError) {
        guard data.count == indices.count, zip(data, indices).enumerated().allSatisfy({ $0.offset == axis || $0.element.1 <= $0.element.0 }) else {
            throw ModelError(.invalidGraph, "indices of shape \(indices) do not fit data of shape \(data)")
        }
        (self.data, self.indices, self.axis) = (data, indices, axis)
    }

    /// The data offset of each index element.
    func offsets(_ values: [Int]) throws(ModelError) -> [Int] {
        let strides = ShapeKernels.strides(data)
        var index = Array(repeating: 0, count: indices.count)
        var result: [Int] = []
        result.reserveCapacity(values.count)
        for v in values {
            var offset = try ShapeKernels.index(v, size: data[axis]) * strides[axis]
            for k in index.indices where k != axis { offset += index[k] * strides[k] }
            result.append(offset)
            ShapeKernels.advance(&index, indices)
        }
        return result
    }
}

/// The slices GatherND and ScatterND address: the last axis of the indices
/// holds tuples that pick slices of the data after `batchDims` shared axes.
struct SliceIndexing {
    /// Data offset of each tuple's slice.
    let offsets: [Int]
    /// Elements per slice.
    let sliceSize: Int
    /// Shape of the tuples (the indices without their last axis).
    let tupleShape: [Int]

    init(data: [Int], indices: [Int], values: [Int], batchDims: Int) throws(ModelError) {
        guard let depth = indices.last, indices.count > batchDims, data.count > batchDims,
              depth >= 1, depth <= data.count - batchDims, Array(indices[..<batchDims]) == Array(data[..<batchDims]) else {
            throw ModelError(.invalidGraph, "indices of shape \(indices) cannot address data of shape \(data) after \(batchDims) batch axes")
        }
        let strides = ShapeKernels.strides(data)
        let tuples = values.count / depth
        let batches = data[..<batchDims].reduce(1, *)
        let perBatch = batches == 0 ? 0 : tuples / batches
        let batchStride = data[batchDims...].reduce(1, *)
        var offsets: [Int] = []
        offsets.reserveCapacity(tuples)
        for t in 0..<tuples {
            var offset = perBatch == 0 ? 0 : (t / perBatch) * batchStride
            for j in 0..<depth {
                offset += try ShapeKernels.index(values[t * depth + j], size: data[batchDims + j]) * strides[batchDims + j]
            }
            offsets.append(offset)
        }
        self.offsets = offsets
        sliceSize = data[(batchDims + depth)...].reduce(1, *)
        tupleShape = Array(indices.dropLast())
    }
}

/// GatherND: slices of the data picked by index tuples.
struct GatherNDKernel: Kernel {
    let batchDims: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data"), indices = try ShapeKernels.input(inputs, 1, "indices")
        let addressing = try SliceIndexing(data: data.shape, indices: indices.shape,
                                           values: try ShapeKernels.integers(indices, "indices"), batchDims: batchDims)
        let depth = indices.shape.last ?? 0
        let shape = addressing.tupleShape + Array(data.shape[(batchDims + depth)...])
        var output = try ElementOutput(dtype: data.dtype, shape: shape)
        for (t, offset) in addressing.offsets.enumerated() {
            output.copy(from: data, offset, to: t * addressing.sliceSize, count: addressing.sliceSize)
        }
        return [output.tensor]
    }
}

/// How scatters write an update into an element: a byte copy, or arithmetic on the element type.
struct ScatterWriter {
    let combine: (UnsafeMutableRawPointer, UnsafeRawPointer) -> Void
    let overwrite: Bool

    init(_ reduction: ScatterReduction, dtype: DType) throws(ModelError) {
        overwrite = reduction == .none
        if overwrite {
            combine = { _, _ in }
            return
        }
        switch dtype {
        case .float: combine = Self.real(Float.self, reduction)
        case .double: combine = Self.real(Double.self, reduction)
        case .float16: combine = Self.real(Float16.self, reduction)
        case .int8: combine = Self.integer(Int8.self, reduction)
        case .int16: combine = Self.integer(Int16.self, reduction)
        case .int32: combine = Self.integer(Int32.self, reduction)
        case .int64: combine = Self.integer(Int64.self, reduction)
        case .uint8: combine = Self.integer(UInt8.self, reduction)
        case .uint16: combine = Self.integer(UInt16.self, reduction)
        case .uint32: combine = Self.integer(UInt32.self, reduction)
        case .uint64: combine = Self.integer(UInt64.self, reduction)
        default: throw ModelError(.unsupported(op: nil, dtype: dtype), "the engine runs scatter reductions on numbers, not \(dtype)")
        }
    }

    private static func real<T: BinaryFloatingPoint>(_ type: T.Type, _ reduction: ScatterReduction) -> (UnsafeMutableRawPointer, UnsafeRawPointer) -> Void {
        combined(T.self) { a, b in
            switch reduction {
            case .add: a + b
            case .mul: a * b
            case .max: Swift.max(a, b)
            case .min: Swift.min(a, b)
            case .none: b
            }
        }
    }

    private static func integer<T: FixedWidthInteger>(_ type: T.Type, _ reduction: ScatterReduction) -> (UnsafeMutableRawPointer, UnsafeRawPointer) -> Void {
        combined(T.self) { a, b in
            switch reduction {
            case .add: a &+ b
            case .mul: a &* b
            case .max: Swift.max(a, b)
            case .min: Swift.min(a, b)
            case .none: b
            }
        }
    }

    private static func combined<T>(_ type: T.Type, _ f: @escaping (T, T) -> T) -> (UnsafeMutableRawPointer, UnsafeRawPointer) -> Void {
        { target, update in
            let value = f(target.loadUnaligned(as: T.self), update.loadUnaligned(as: T.self))
            target.storeBytes(of: value, as: T.self)
        }
    }

    /// Writes element `from` of `updates` into element `to` of `output`.
    func write(_ output: inout ElementOutput, _ updates: EngineTensor, _ from: Int, to: Int) {
        if overwrite || output.width == 0 {
            output.copy(from: updates, from, to: to, count: 1)
        } else {
            combine(output.buffer.base + to * output.width, UnsafeRawPointer(updates.buffer.base + from * output.width))
        }
    }
}

/// ScatterElements (and the older Scatter): a copy of the data with updates written at indices along `axis`.
struct ScatterElementsKernel: Kernel {
    let axis: Int
    let reduction: ScatterReduction

    init(_ schema: ScatterElements, _ setup: KernelSetup) throws(ModelError) {
        axis = schema.axis
        reduction = schema.reduction
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data"), indices = try ShapeKernels.input(inputs, 1, "indices")
        let updates = try ShapeKernels.input(inputs, 2, "updates")
        guard updates.shape == indices.shape, updates.dtype == data.dtype else {
            throw ModelError(.invalidGraph, "updates (\(updates.dtype) \(updates.shape)) must match indices \(indices.shape) and data type \(data.dtype)")
        }
        let a = try ShapeKernels.axis(axis, rank: data.shape.count)
        let offsets = try ElementIndexing(data: data.shape, indices: indices.shape, axis: a)
            .offsets(try ShapeKernels.integers(indices, "indices"))
        let writer = try ScatterWriter(reduction, dtype: data.dtype)
        var output = try ElementOutput(copying: data)
        for (i, offset) in offsets.enumerated() { writer.write(&output, updates, i, to: offset) }
        return [output.tensor]
    }
}

/// ScatterND: a copy of the data with update slices written at index tuples.
struct ScatterNDKernel: Kernel {
    let reduction: ScatterReduction

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try ShapeKernels.input(inputs, 0, "data"), indices = try ShapeKernels.input(inputs, 1, "indices")
        let updates = try ShapeKernels.input(inputs, 2, "updates")
        let addressing = try SliceIndexing(data: data.shape, indices: indices.shape,
                                           values: try ShapeKernels.integers(indices, "indices"), batchDims: 0)
        let depth = indices.shape.last ?? 0
        guard updates.dtype == data.dtype, updates.shape == addressing.tupleShape + Array(data.shape[depth...]) else {
            throw ModelError(.invalidGraph, "updates (\(updates.dtype) \(updates.shape)) do not match the indices and data")
        }
        let writer = try ScatterWriter(reduction, dtype: data.dtype)
        var output = try ElementOutput(copying: data)
        let size = addressing.sliceSize
        for (t, offset) in addressing.offsets.enumerated() {
            for j in 0..<size { writer.write(&output, updates, t * size + j, to: offset + j) }
        }
        return [output.tensor]
    }
}

/// Compress: the slices along `axis` (or elements of the flattened input) where the condition is true.
struct CompressKernel: Kernel {
    let axis: Int?

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var data = try ShapeKernels.input(inputs, 0, "input")
        let condition = try ShapeKernels.input(inputs, 1, "condition")
        guard condition.shape.count == 1 else { throw ModelError(.invalidGraph, "condition must be 1-D") }
        let flags = try ElementNumbers.integers(condition)
        var a = 0
        if let axis {
            a = try ShapeKernels.axis(axis, rank: data.shape.count)
        } else {
            data = data.reshaped([data.count])
        }
        let size = data.shape[a]
        guard flags.count <= size else { throw ModelError(.invalidGraph, "condition has \(flags.count) entries for an axis of \(size)") }
        let kept = flags.indices.filter { flags[$0] != 0 }
        let strides = ShapeKernels.strides(data.shape)
        var dims = data.shape
        dims[a] = kept.count
        return [try ShapeKernels.tableCopy(data, dims: dims, context: context) { k in
            k == a ? kept.map { $0 * strides[a] } : ShapeKernels.wholeAxis(dims[k], stride: strides[k])
        }]
    }
}

/// NonZero: the int64 indices of the non-zero elements, one row per axis, in row-major order.
struct NonZeroKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try ShapeKernels.input(inputs, 0, "input")
        let nonZero: [Bool]
        if x.dtype == .string {
            nonZero = ShapeKernels.strings(of: x).map { !$0.isEmpty }
        } else {
            nonZero = try ElementNumbers.doubles(x).map { $0 != 0 }
        }
        let positions = nonZero.indices.filter { nonZero[$0] }
        let rank = x.shape.count
        var values = Array(repeating: 0, count: rank * positions.count)
        for (j, flat) in positions.enumerated() {
            for (k, i) in ShapeKernels.multiIndex(flat, x.shape).enumerated() { values[k * positions.count + j] = i }
        }
        return [try ShapeKernels.int64Tensor(values, shape: [rank, positions.count])]
    }
}

// MARK: - Describing and generating

/// Shape: the input's dimensions from `start` to `end` (clamped) as int64.
struct ShapeOfKernel: Kernel {
    let start: Int
    let end: Int?

    init(_ schema: ShapeOf, _ setup: KernelSetup) throws(ModelError) {
        (start, end) = (schema.start, schema.end)
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let shape = try ShapeKernels.input(inputs, 0, "data").shape
        let rank = shape.count
        func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + rank : i, 0), rank) }
        let first = clamp(start), last = clamp(end ?? rank)
        let dims = first < last ? Array(shape[first..<last]) : []
        return [try ShapeKernels.int64Tensor(dims, shape: [dims.count])]
    }
}

/// Size: the input's element count as an int64 scalar.
struct SizeKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        [try ShapeKernels.int64Tensor([try ShapeKernels.input(inputs, 0, "data").count], shape: [])]
    }
}

/// ConstantOfShape: a tensor of the given shape filled with the one-element `value` (float32 zero by default).
struct ConstantOfShapeKernel: Kernel {
    let dtype: DType
    let fill: FillElement

    init(_ schema: ConstantOfShape, _ setup: KernelSetup) throws(ModelError) {
        dtype = schema.dtype
        if let tensor = try AttributeReader(setup.node).tensor("value") {
            fill = try FillElement(try EngineTensor(tensor), at: 0)
        } else {
            fill = try FillElement(zeroOf: dtype)
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let dims = try ShapeKernels.integers(try ShapeKernels.input(inputs, 0, "shape"), "shape")
        guard dims.allSatisfy({ $0 >= 0 }) else { throw ModelError(.invalidGraph, "the shape \(dims) has a negative dimension") }
        var output = try ElementOutput(dtype: dtype, shape: dims)
        output.fill(fill, at: 0, count: output.count)
        return [output.tensor]
    }
}

/// Range: start, start + delta, … up to limit (exclusive), in the inputs' type.
struct RangeKernel: Kernel {
    /// The most elements a Range may produce; the count comes from data, so it is bounded before allocating.
    static let maxElements = 1 << 31

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let operands = [try ShapeKernels.input(inputs, 0, "start"), try ShapeKernels.input(inputs, 1, "limit"),
                        try ShapeKernels.input(inputs, 2, "delta")]
        try ShapeKernels.sameType(operands, "Range")
        guard operands.allSatisfy({ $0.count == 1 }) else { throw ModelError(.invalidGraph, "start, limit and delta must be scalars") }
        let dtype = operands[0].dtype
        if dtype.kind == .signedInteger || dtype.kind == .unsignedInteger {
            let v = try operands.map { t throws(ModelError) in try ElementNumbers.integers(t)[0] }
            let (start, limit, delta) = (v[0], v[1], v[2])
            guard delta != 0 else { throw ModelError(.invalidGraph, "delta is zero") }
            let (span, overflow) = limit.subtractingReportingOverflow(start)
            let (quotient, overflowDividing) = span.dividedReportingOverflow(by: delta)
            guard !overflow, !overflowDividing else { throw ModelError(.limit, "the range from \(start) to \(limit) is too large") }
            var count = quotient
            if count * delta != span && (span > 0) == (delta > 0) { count += 1 }
            count = max(count, 0)
            guard count <= Self.maxElements else { throw ModelError(.limit, "the range has \(count) elements, more than the engine allows") }
            return [try ElementNumbers.tensor(integers: (0..<count).map { start &+ $0 &* delta }, dtype: dtype, shape: [count])]
        }
        let v = try operands.map { t throws(ModelError) in try ElementNumbers.doubles(t)[0] }
        let (start, limit, delta) = (v[0], v[1], v[2])
        guard delta != 0 else { throw ModelError(.invalidGraph, "delta is zero") }
        let steps = ((limit - start) / delta).rounded(.up)
        guard steps.isFinite || steps < 0, steps <= Double(Self.maxElements) else {
            throw ModelError(.limit, "the range from \(start) to \(limit) by \(delta) is too large")
        }
        let count = steps > 0 ? Int(steps) : 0
        return [try ElementNumbers.tensor((0..<count).map { start + Double($0) * delta }, dtype: dtype, shape: [count])]
    }
}

/// Constant: its value, built once when the plan is made, from whichever
/// of `value`, `sparse_value`, `value_float(s)`, `value_int(s)` or `value_string(s)` the node has.
struct ConstantKernel: Kernel {
    let value: EngineTensor

    init(_ setup: KernelSetup) throws(ModelError) {
        let reader = AttributeReader(setup.node)
        if let tensor = try reader.tensor("value") {
            value = try EngineTensor(tensor)
        } else if case .sparseTensor(let sparse)? = setup.node.attribute("sparse_value")?.value {
            value = try Self.dense(sparse)
        } else if setup.node.attribute("value_float") != nil {
            value = try EngineTensor(floats: [try reader.float("value_float", default: 0)], shape: [])
        } else if let floats = try reader.floats("value_floats") {
            value = try EngineTensor(floats: floats, shape: [floats.count])
        } else if let int = try reader.int("value_int") {
            value = try ShapeKernels.int64Tensor([int], shape: [])
        } else if let ints = try reader.ints("value_ints") {
            value = try ShapeKernels.int64Tensor(ints, shape: [ints.count])
        } else if case .string(let bytes)? = setup.node.attribute("value_string")?.value {
            value = EngineTensor(strings: [bytes], shape: [])
        } else if case .strings(let strings)? = setup.node.attribute("value_strings")?.value {
            value = EngineTensor(strings: strings, shape: [strings.count])
        } else {
            throw ModelError(.invalidGraph, "Constant has no value attribute")
        }
    }

    /// The dense form of a sparse tensor: zeros with the values at their
    /// indices (flat `[NNZ]` or coordinates `[NNZ, rank]`).
    static func dense(_ sparse: SparseTensor) throws(ModelError) -> EngineTensor {
        let dims = sparse.dims.map { Int(clamping: $0) }
        let values = try EngineTensor(sparse.values)
        let indices = try ShapeKernels.integers(try EngineTensor(sparse.indices), "sparse indices")
        var output = try ElementOutput(dtype: values.dtype, shape: dims)
        output.fill(try FillElement(zeroOf: values.dtype), at: 0, count: output.count)
        let strides = ShapeKernels.strides(dims)
        let coordinates = indices.count == values.count ? 1 : dims.count
        guard indices.count == values.count * coordinates else {
            throw ModelError(.invalidGraph, "a sparse tensor has \(values.count) values and \(indices.count) indices")
        }
        for i in 0..<values.count {
            var offset = 0
            if coordinates == 1 {
                offset = indices[i]
                guard offset >= 0 && offset < output.count else { throw ModelError(.invalidGraph, "sparse index \(offset) is out of range") }
            } else {
                for k in 0..<coordinates { offset += try ShapeKernels.index(indices[i * coordinates + k], size: dims[k]) * strides[k] }
            }
            output.copy(from: values, i, to: offset, count: 1)
        }
        return output.tensor
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        [value]
    }
}

/// OneHot: a new axis of length `depth` holding `values[1]` where the index points and `values[0]` elsewhere.
struct OneHotKernel: Kernel {
    let axis: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let indices = try ShapeKernels.input(inputs, 0, "indices"), depthInput = try ShapeKernels.input(inputs, 1, "depth")
        let values = try ShapeKernels.input(inputs, 2, "values")
        guard values.count == 2 else { throw ModelError(.invalidGraph, "values must hold [off, on], it holds \(values.count) elements") }
        let depths = try ElementNumbers.doubles(depthInput)
        guard depths.count == 1, let depth = Int(exactly: depths[0].rounded(.towardZero)), depth >= 0 else {
            throw ModelError(.invalidGraph, "depth must be one non-negative number")
        }
        let a = try ShapeKernels.axis(axis, rank: indices.shape.count + 1)
        var dims = indices.shape
        dims.insert(depth, at: a)
        var output = try ElementOutput(dtype: values.dtype, shape: dims)
        output.fill(try FillElement(values, at: 0), at: 0, count: output.count)
        let on = try FillElement(values, at: 1)
        let inner = indices.shape[a...].reduce(1, *)
        for (i, v) in try ElementNumbers.doubles(indices).enumerated() {
            guard let index = Int(exactly: v.rounded(.towardZero)) else { continue }
            var k = index
            if k < 0 { k += depth }
            guard k >= 0 && k < depth else { continue }
            let (o, j) = i.quotientAndRemainder(dividingBy: max(inner, 1))
            output.fill(on, at: (o * depth + k) * inner + j, count: 1)
        }
        return [output.tensor]
    }
}

/// Trilu: the upper or lower triangle of the last two axes (shifted by k, input 1), the rest zero.
struct TriluKernel: Kernel {
    let upper: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try ShapeKernels.input(inputs, 0, "input")
        guard x.shape.count >= 2 else { throw ModelError(.invalidGraph, "the input must have rank 2 or more") }
        let k = try ShapeKernels.optionalInput(inputs, 1).map { t throws(ModelError) in try ShapeKernels.scalarInteger(t, "k") } ?? 0
        let rows = x.shape[x.shape.count - 2], columns = x.shape[x.shape.count - 1]
        var output = try ElementOutput(copying: x)
        let zero = try FillElement(zeroOf: x.dtype)
        let matrices = rows * columns == 0 ? 0 : x.count / (rows * columns)
        for m in 0..<matrices {
            for i in 0..<rows {
                // Row i keeps columns j with j − i ≥ k (upper) or j − i ≤ k (lower).
                let row = (m * rows + i) * columns
                let edge = min(max(i &+ k, 0), columns)
                if upper {
                    output.fill(zero, at: row, count: edge)
                } else {
                    let keep = min(max(i &+ k &+ 1, 0), columns)
                    output.fill(zero, at: row + keep, count: columns - keep)
                }
            }
        }
        return [output.tensor]
    }
}

/// EyeLike: a 2-D tensor of the input's shape with ones on diagonal k, of type `dtype` (the input's by default).
struct EyeLikeKernel: Kernel {
    let dtype: DType?
    let k: Int

    init(_ schema: EyeLike, _ setup: KernelSetup) throws(ModelError) {
        dtype = schema.dtype
        k = try AttributeReader(setup.node).int("k", default: 0)
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try ShapeKernels.input(inputs, 0, "input")
        guard x.shape.count == 2 else { throw ModelError(.invalidGraph, "the input must be 2-D, it has rank \(x.shape.count)") }
        let type = dtype ?? x.dtype
        var output = try ElementOutput(dtype: type, shape: x.shape)
        output.fill(try FillElement(zeroOf: type), at: 0, count: output.count)
        let one = try ElementNumbers.element(1, dtype: type)
        for i in 0..<x.shape[0] {
            let j = i &+ k
            if j >= 0 && j < x.shape[1] { output.fill(one, at: i * x.shape[1] + j, count: 1) }
        }
        return [output.tensor]
    }
}

// MARK: - Resize

/// Resize (and the older Upsample): resampling along some axes to sizes
/// given directly or as scales. Nearest sampling copies elements of any
/// type through index tables; linear and cubic interpolation run axis by
/// axis in double precision (the filters are separable), the antialiased
/// variants widening the filter when downscaling.
struct ResizeKernel: Kernel {
    let mode: Interpolation
    let axes: [Int]?
    let keepAspectRatioPolicy: String
    let coordinateMode: String
    let nearestMode: String
    let cubicA: Double
    let excludeOutside: Bool
    let extrapolation: Double
    let antialias: Bool
    /// Input positions of the region of interest, scales and sizes (Resize), when the operator version has them.
    let roiIndex: Int?
    let scalesIndex: Int?
    let sizesIndex: Int?
    /// Scales from the attributes of Upsample before opset 9.
    let scalesAttribute: [Double]?

    init(_ schema: Resize, _ setup: KernelSetup) throws(ModelError) {
        let reader = AttributeReader(setup.node)
        mode = schema.mode
        axes = schema.axes
        keepAspectRatioPolicy = schema.keepAspectRatioPolicy
        // Resize-10 samples as Upsample did: asymmetric coordinates, rounding down.
        coordinateMode = setup.opset < 11 ? "asymmetric" : try reader.string("coordinate_transformation_mode", default: "half_pixel")
        nearestMode = setup.opset < 11 ? "floor" : try reader.string("nearest_mode", default: "round_prefer_floor")
        cubicA = Double(try reader.float("cubic_coeff_a", default: -0.75))
        excludeOutside = try reader.int("exclude_outside", default: 0) != 0
        extrapolation = Double(try reader.float("extrapolation_value", default: 0))
        antialias = try reader.int("antialias", default: 0) != 0
        (roiIndex, scalesIndex, sizesIndex) = setup.opset < 11 ? (nil, 1, nil) : (1, 2, 3)
        scalesAttribute = nil
        try Self.check(coordinateMode: coordinateMode, nearestMode: nearestMode)
    }

    init(_ schema: Upsample, _ setup: KernelSetup) throws(ModelError) {
        mode = schema.mode
        axes = nil
        keepAspectRatioPolicy = "stretch"
        coordinateMode = "asymmetric"
        nearestMode = "floor"
        cubicA = -0.75
        excludeOutside = false
        extrapolation = 0
        antialias = false
        (roiIndex, scalesIndex, sizesIndex) = (nil, schema.scalesAttribute == nil ? 1 : nil, nil)
        scalesAttribute = schema.scalesAttribute
    }

    private static func check(coordinateMode: String, nearestMode: String) throws(ModelError) {
        let modes = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"]
        guard modes.contains(coordinateMode) else { throw ModelError(.invalidGraph, "unknown coordinate_transformation_mode '\(coordinateMode)'") }
        guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(nearestMode) else {
            throw ModelError(.invalidGraph, "unknown nearest_mode '\(nearestMode)'")
        }
    }

    /// How one axis is resampled.
    struct AxisPlan {
        let input: Int
        let output: Int
        let scale: Double
        let roi: (start: Double, end: Double)

        /// Whether the axis is left as it is.
        var isIdentity: Bool { output == input && abs(scale - 1) <= 1e-9 && roi.start == 0 && roi.end == 1 }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try ShapeKernels.input(inputs, 0, "X")
        let plans = try axisPlans(x.shape, inputs)
        if mode == .nearest {
            let fill = try ElementNumbers.element(extrapolation, dtype: x.dtype)
            let strides = ShapeKernels.strides(x.shape)
            return [try ShapeKernels.tableCopy(x, dims: plans.map(\.output), fill: fill, context: context) { a in
                plans[a].isIdentity ? ShapeKernels.wholeAxis(x.shape[a], stride: strides[a])
                    : (0..<plans[a].output).map { j in nearest(j, plans[a]).map { $0 * strides[a] } ?? -1 }
            }]
        }
        // Intermediate results are at most as large as the larger of input and output on every axis.
        let largest = try ShapeKernels.count(plans.map { max($0.input, $0.output) })
        guard largest.multipliedReportingOverflow(by: MemoryLayout<Double>.size).overflow == false else {
            throw ModelError(.limit, "resizing \(x.shape) to \(plans.map(\.output)) is too large")
        }
        if try ShapeKernels.count(plans.map(\.output)) == 0 {
            return [try ElementOutput(dtype: x.dtype, shape: plans.map(\.output)).tensor]
        }
        let read = try ElementNumbers.reader(x.dtype), write = try ElementNumbers.writer(x.dtype)
        let output = try EngineTensor(dtype: x.dtype, shape: plans.map(\.output))
        // Leading axes that keep their size hold independent slices, resampled one by one in parallel.
        let first = plans.firstIndex { !$0.isIdentity } ?? plans.count
        let slicePlans = Array(plans[first...])
        let slices = x.shape[..<first].reduce(1, *)
        let sliceInput = slicePlans.map(\.input).reduce(1, *), sliceOutput = slicePlans.map(\.output).reduce(1, *)
        let source = UnsafeRawPointer(x.buffer.base), target = output.buffer.base
        context.parallel(slices) { o in
            var values = (0..<sliceInput).map { read(source, o * sliceInput + $0) }
            var dims = slicePlans.map(\.input)
            for (a, plan) in slicePlans.enumerated() where !plan.isIdentity {
                values = resample(values, dims: dims, axis: a, plan)
                dims[a] = plan.output
            }
            for (i, v) in values.enumerated() { write(target, o * sliceOutput + i, v) }
        }
        return [output]
    }

    /// Output sizes, scales and regions of interest of every axis.
    func axisPlans(_ shape: [Int], _ inputs: [EngineTensor?]) throws(ModelError) -> [AxisPlan] {
        let rank = shape.count
        let resized = try axes.map { a throws(ModelError) in try ShapeKernels.axes(a, rank: rank) } ?? Array(0..<rank)
        // An empty tensor stands for an omitted input (opset 11 needed an empty scales to reach sizes).
        func given(_ index: Int?) -> EngineTensor? {
            index.flatMap { ShapeKernels.optionalInput(inputs, $0) }.flatMap { $0.count > 0 ? $0 : nil }
        }
        var roi = Array(repeating: (start: 0.0, end: 1.0), count: rank)
        if coordinateMode == "tf_crop_and_resize", let region = given(roiIndex) {
            let bounds = try ElementNumbers.doubles(region)
            guard bounds.count == 2 * resized.count else { throw ModelError(.invalidGraph, "roi has \(bounds.count) elements for \(resized.count) axes") }
            for (k, a) in resized.enumerated() { roi[a] = (bounds[k], bounds[k + resized.count]) }
        }
        var scales = Array(repeating: 1.0, count: rank), sizes = shape
        if let sizesInput = given(sizesIndex) {
            let wanted = try ShapeKernels.integers(sizesInput, "sizes")
            guard wanted.count == resized.count, wanted.allSatisfy({ $0 >= 0 }) else {
                throw ModelError(.invalidGraph, "sizes must give a non-negative size for each of the \(resized.count) axes")
            }
            guard resized.allSatisfy({ shape[$0] > 0 }) else { throw ModelError(.invalidGraph, "cannot resize an empty axis to a size") }
            let ratios = zip(resized, wanted).map { Double($1) / Double(shape[$0]) }
            if keepAspectRatioPolicy == "stretch" {
                for (k, a) in resized.enumerated() { (scales[a], sizes[a]) = (ratios[k], wanted[k]) }
            } else {
                let scale = (keepAspectRatioPolicy == "not_larger" ? ratios.min() : ratios.max()) ?? 1
                for a in resized {
                    let size = scale * Double(shape[a]) + 0.5
                    guard size < Double(Int32.max) else { throw ModelError(.invalidGraph, "sizes make axis \(a) too large") }
                    (scales[a], sizes[a]) = (scale, Int(size))
                }
            }
        } else {
            let factors: [Double]
            if let scalesAttribute {
                factors = scalesAttribute
            } else if let scalesInput = given(scalesIndex) {
                factors = try ElementNumbers.doubles(scalesInput)
            } else {
                throw ModelError(.invalidGraph, "Resize needs scales or sizes")
            }
            // Upsample's scales cover every axis.
            let targets = scalesAttribute != nil || sizesIndex == nil ? Array(0..<rank) : resized
            guard factors.count == targets.count, factors.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw ModelError(.invalidGraph, "scales must give a positive factor for each of the \(targets.count) axes")
            }
            for (k, a) in targets.enumerated() {
                let size = (factors[k] * Double(shape[a])).rounded(.down)
                guard size < Double(Int32.max) else { throw ModelError(.invalidGraph, "scale \(factors[k]) makes axis \(a) too large") }
                (scales[a], sizes[a]) = (factors[k], Int(size))
            }
        }
        return (0..<rank).map { AxisPlan(input: shape[$0], output: sizes[$0], scale: scales[$0], roi: roi[$0]) }
    }

    /// The input coordinate output position `j` samples, and whether it lies outside the crop region.
    func coordinate(_ j: Int, _ plan: AxisPlan) -> (x: Double, outside: Bool) {
        let position = Double(j), input = Double(plan.input), scale = plan.scale
        // As the operator's reference does, the fractional output length decides the degenerate cases.
        let length = scale * input
        switch coordinateMode {
        case "align_corners":
            return (length == 1 ? 0 : position * (input - 1) / (length - 1), false)
        case "asymmetric":
            return (position / scale, false)
        case "pytorch_half_pixel":
            return (length == 1 ? -0.5 : (position + 0.5) / scale - 0.5, false)
        case "half_pixel_symmetric":
            let adjustment = Double(plan.output) / length
            let offset = input / 2 * (1 - adjustment)
            return (offset + (position + 0.5) / scale - 0.5, false)
        case "tf_crop_and_resize":
            let extent = plan.roi.end - plan.roi.start
            let x = (length == 1 ? extent * (input - 1) / 2 : position * extent * (input - 1) / (length - 1)) + plan.roi.start * (input - 1)
            return (x, x < 0 || x > input - 1)
        default:
            return ((position + 0.5) / scale - 0.5, false)
        }
    }

    /// The input index nearest to output position `j`'s coordinate, or `nil` outside the crop region.
    func nearest(_ j: Int, _ plan: AxisPlan) -> Int? {
        let (x, outside) = coordinate(j, plan)
        if outside { return nil }
        let below = x.rounded(.down)
        let fraction = x - below
        var index = Int(below)
        if fraction > 0 {
            switch nearestMode {
            case "round_prefer_ceil": if fraction >= 0.5 { index += 1 }
            case "floor": break
            case "ceil": index += 1
            default: if fraction > 0.5 { index += 1 }
            }
        }
        return min(max(index, 0), plan.input - 1)
    }

    /// Filter weights for a sample at `ratio` ∈ (0, 1] past the tap left of it.
    func coefficients(_ ratio: Double, scale: Double) -> [Double] {
        let a = cubicA
        switch (mode, antialias) {
        case (.cubic, false):
            let r = ratio, s = 1 - ratio
            return [((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
                    ((a + 2) * r - (a + 3)) * r * r + 1,
                    ((a + 2) * s - (a + 3)) * s * s + 1,
                    ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a]
        case (.cubic, true):
            let s = min(scale, 1)
            let first = Int((-2 / s).rounded(.down)) + 1
            let weights = (first..<(2 - first)).map { i -> Double in
                let x = abs(s * (Double(i) - ratio))
                if x <= 1 { return (a + 2) * x * x * x - (a + 3) * x * x + 1 }
                if x < 2 { return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a }
                return 0
            }
            let sum = weights.reduce(0, +)
            return weights.map { $0 / sum }
        case (_, true):
            let s = min(scale, 1)
            let first = Int((-1 / s).rounded(.down)) + 1
            let weights = (first..<(2 - first)).map { i in min(max(1 - abs((Double(i) - ratio) * s), 0), 1) }
            let sum = weights.reduce(0, +)
            return weights.map { $0 / sum }
        default:
            return [1 - ratio, ratio]
        }
    }

    /// `values` (shaped `dims`) interpolated along `axis`.
    func resample(_ values: [Double], dims: [Int], axis: Int, _ plan: AxisPlan) -> [Double] {
        let outer = dims[..<axis].reduce(1, *), inner = dims[(axis + 1)...].reduce(1, *)
        var taps: [(indices: [Int], weights: [Double])?] = []
        for j in 0..<plan.output {
            let (x, outside) = coordinate(j, plan)
            if outside {
                taps.append(nil)
                continue
            }
            let below = x.rounded(.down)
            let exact = x == below
            var weights = coefficients(exact ? 1 : x - below, scale: plan.scale)
            // The taps are the n inputs nearest x, the left one preferred on ties; edges repeat.
            let first = Int(below) - weights.count / 2 + (exact ? 0 : 1)
            let positions = (0..<weights.count).map { first + $0 }
            if excludeOutside {
                for (t, p) in positions.enumerated() where p < 0 || p >= plan.input { weights[t] = 0 }
                let sum = weights.reduce(0, +)
                if sum != 0 { weights = weights.map { $0 / sum } }
            }
            taps.append((positions.map { min(max($0, 0), plan.input - 1) }, weights))
        }
        var result = Array(repeating: 0.0, count: outer * plan.output * inner)
        values.withUnsafeBufferPointer { source in
            for o in 0..<outer {
                for (j, tap) in taps.enumerated() {
                    let target = (o * plan.output + j) * inner
                    guard let tap else {
                        for i in 0..<inner { result[target + i] = extrapolation }
                        continue
                    }
                    for (index, weight) in zip(tap.indices, tap.weights) where weight != 0 {
                        let from = (o * plan.input + index) * inner
                        for i in 0..<inner { result[target + i] += weight * source[from + i] }
                    }
                }
            }
        }
        return result
    }
}

// MARK: - The schemas' kernels

extension Reshape: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ReshapeKernel(self, setup) }
}

extension Flatten: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { FlattenKernel(axis: axis) }
}

extension Squeeze: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { SqueezeKernel(axesAttribute: axesAttribute) }
}

extension Unsqueeze: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { UnsqueezeKernel(axesAttribute: axesAttribute) }
}

extension Transpose: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { TransposeKernel(perm: perm) }
}

extension Concat: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { ConcatKernel(axis: axis) }
}

extension Split: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try SplitKernel(self, setup) }
}

extension Slice: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try SliceKernel(self, setup) }
}

extension Gather: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { GatherKernel(axis: axis) }
}

extension GatherElements: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { GatherElementsKernel(axis: axis) }
}

extension GatherND: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { GatherNDKernel(batchDims: batchDims) }
}

extension ScatterElements: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ScatterElementsKernel(self, setup) }
}

extension ScatterND: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { ScatterNDKernel(reduction: reduction) }
}

extension Expand: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { ExpandKernel() }
}

extension Tile: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { TileKernel(legacy: setup.opset < 6) }
}

extension Pad: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try PadKernel(self, setup) }
}

extension ShapeOf: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ShapeOfKernel(self, setup) }
}

extension SizeOf: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { SizeKernel() }
}

extension ConstantOfShape: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ConstantOfShapeKernel(self, setup) }
}

extension NumberRange: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { RangeKernel() }
}

extension Constant: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ConstantKernel(setup) }
}

extension DepthToSpace: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        try BlockRearrangeKernel(blockSize: blockSize, setup, toDepth: false)
    }
}

extension SpaceToDepth: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        try BlockRearrangeKernel(blockSize: blockSize, setup, toDepth: true)
    }
}

extension OneHot: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { OneHotKernel(axis: axis) }
}

extension Trilu: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { TriluKernel(upper: upper) }
}

extension EyeLike: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try EyeLikeKernel(self, setup) }
}

extension NonZero: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { NonZeroKernel() }
}

extension Compress: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { CompressKernel(axis: axis) }
}

extension ReverseSequence: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ReverseSequenceKernel(self, setup) }
}

extension Resize: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ResizeKernel(self, setup) }
}

extension Upsample: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ResizeKernel(self, setup) }
}
