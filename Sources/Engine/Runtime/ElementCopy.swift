#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore
internal import CKernels

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
            buffer = .empty
            strings = Array(repeating: [], count: count)
        } else {
            width = try ShapeKernels.width(of: dtype)
            let (bytes, overflow) = count.multipliedReportingOverflow(by: width)
            guard !overflow else { throw ModelError(.limit, "a \(dtype) tensor of shape \(shape) is too large") }
            buffer = try TensorBuffer(byteCount: bytes)
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
                Shape.advance(&index, in: outerDims)
            }
            return EngineTensor(strings: values, shape: output.shape)
        }

        guard case .bytes(let fillBytes) = filler else { throw ModelError(.internal, "internal: a numeric tensor needs a numeric fill") }
        let width = output.width
        let run = inner[0] >= 0 && inner.indices.allSatisfy { inner[$0] == inner[0] + $0 }
        if run {
            // Outer tables that continue the run (a Transpose's or Slice's trailing
            // whole axes, ShuffleNet's channel shuffle) join it: one copy per
            // 28×28 plane rather than per 28-float row.
            var runLength = n, kept = outer.count
            while kept > 0 {
                let table = outer[kept - 1]
                guard table.indices.allSatisfy({ table[$0] >= 0 && table[$0] == table[0] + $0 * runLength }) else { break }
                runLength *= table.count
                kept -= 1
            }
            if kept < outer.count, outer[..<kept].allSatisfy({ $0.allSatisfy { $0 >= 0 } }) {
                let start = inner[0] + outer[kept...].reduce(0) { $0 + $1[0] }
                return try copyRuns(source, into: output, outer: Array(outer[..<kept]), start: start, runLength: runLength, context: context)
            }
        }
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
                Shape.advance(&index, in: outerDims)
            }
        }
        return output.tensor
    }

    /// A table copy whose every row is one contiguous run of `runLength`
    /// elements of the source, from `start` plus the outer tables' offsets
    /// (the tables hold no fill entry).
    private static func copyRuns(_ source: EngineTensor, into output: ElementOutput, outer: [[Int]], start: Int, runLength: Int,
                                 context: ExecutionContext) throws(ModelError) -> EngineTensor {
        let width = output.width, rows = output.count / runLength, outerDims = outer.map(\.count)
        let from = UnsafeRawPointer(source.buffer.base), target = output.buffer.base
        context.parallelRanges(rows, grain: max(1, 32768 / max(1, runLength * width))) { range in
            var index = multiIndex(range.lowerBound, outerDims)
            for row in range {
                var base = start
                for k in 0..<outer.count { base += outer[k][index[k]] }
                (target + row * runLength * width).copyMemory(from: from + base * width, byteCount: runLength * width)
                Shape.advance(&index, in: outerDims)
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
        if source.dtype.bitsPerElement == 32, source.count == dims.reduce(1, *), let blocks = swappedBlocks(dims, perm) {
            return try transposedBlocks(source, shape: perm.map { dims[$0] }, blocks, context: context)
        }
        let strides = Shape.strides(dims)
        return try tableCopy(source, dims: perm.map { dims[$0] }, context: context) { k in wholeAxis(dims[perm[k]], stride: strides[perm[k]]) }
    }

    /// When `perm` keeps the leading axes and swaps the two groups of axes
    /// after them (NCHW to NHWC is [0, 2, 3, 1]: C with H·W), the input is
    /// `outer` matrices of `rows` × `columns` and the output their transposes.
    static func swappedBlocks(_ dims: [Int], _ perm: [Int]) -> (outer: Int, rows: Int, columns: Int)? {
        let rank = perm.count
        guard let a = perm.indices.first(where: { perm[$0] != $0 }), a < rank - 1 else { return nil }
        let b = perm[a]
        guard b > a, perm[a...] == ArraySlice(Array(b..<rank) + Array(a..<b)) else { return nil }
        return (dims[..<a].reduce(1, *), dims[a..<b].reduce(1, *), dims[b...].reduce(1, *))
    }

    /// `outer` blocked transposes of 4-byte elements, split between the
    /// threads by matrices, or by rows of one matrix.
    private static func transposedBlocks(_ source: EngineTensor, shape: [Int], _ blocks: (outer: Int, rows: Int, columns: Int),
                                         context: ExecutionContext) throws(ModelError) -> EngineTensor {
        let output = try EngineTensor(dtype: source.dtype, shape: shape)
        let (rows, columns) = (blocks.rows, blocks.columns), size = rows * columns
        let from = UnsafePointer(source.buffer.base.assumingMemoryBound(to: Float.self))
        let to = output.buffer.base.assumingMemoryBound(to: Float.self)
        if blocks.outer >= context.threads {
            context.parallelRanges(blocks.outer) { matrices in
                for m in matrices { ck_transpose_f32(from + m * size, columns, rows, columns, to + m * size, rows) }
            }
        } else {
            for m in 0..<blocks.outer {
                context.parallelRanges(rows, grain: 16) { band in
                    ck_transpose_f32(from + m * size + band.lowerBound * columns, columns, band.count, columns,
                                     to + m * size + band.lowerBound, rows)
                }
            }
        }
        return output
    }
}
