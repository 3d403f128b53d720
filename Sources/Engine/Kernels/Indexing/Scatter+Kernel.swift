#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

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
        let data = try requiredInput(inputs, 0, "data"), indices = try requiredInput(inputs, 1, "indices")
        let updates = try requiredInput(inputs, 2, "updates")
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
        let data = try requiredInput(inputs, 0, "data"), indices = try requiredInput(inputs, 1, "indices")
        let updates = try requiredInput(inputs, 2, "updates")
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

/// TensorScatter (opset 24): a copy of the cache with each batch item's
/// update rows written along `axis` from that item's write index (0 when
/// `write_indices` is omitted); circular mode wraps positions round the
/// cache's length, linear mode refuses positions past it.
struct TensorScatterKernel: Kernel {
    let axis: Int
    let circular: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let cache = try requiredInput(inputs, 0, "past_cache"), update = try requiredInput(inputs, 1, "update")
        let rank = cache.shape.count
        guard update.dtype == cache.dtype, update.shape.count == rank, rank >= 2 else {
            throw ModelError(.invalidGraph, "TensorScatter: update (\(update.dtype) \(update.shape)) does not match the cache (\(cache.dtype) \(cache.shape))")
        }
        let a = try ShapeKernels.axis(axis, rank: rank)
        guard a != 0 else { throw ModelError(.invalidGraph, "TensorScatter: axis cannot be the batch axis") }
        for i in 0..<rank where i == a ? update.shape[i] > cache.shape[i] : update.shape[i] != cache.shape[i] {
            throw ModelError(.invalidGraph, "TensorScatter: update \(update.shape) does not fit the cache \(cache.shape) along axis \(i)")
        }
        let batch = cache.shape[0]
        var writes = Array(repeating: 0, count: batch)
        if let indices = optionalInput(inputs, 2) {
            writes = try ShapeKernels.integers(indices, "TensorScatter write_indices")
            guard writes.count == batch else {
                throw ModelError(.invalidGraph, "TensorScatter: write_indices has \(writes.count) values for a batch of \(batch)")
            }
        }
        let outer = elementCount(cache.shape[..<a]), inner = elementCount(cache.shape[(a + 1)...])
        let (capacity, length) = (cache.shape[a], update.shape[a])
        let perItem = batch == 0 ? 0 : outer / batch
        var output = try ElementOutput(copying: cache)
        for o in 0..<outer {
            for s in 0..<length {
                var position = writes[o / perItem] + s
                if circular && capacity > 0 { position = ((position % capacity) + capacity) % capacity }
                guard position >= 0 && position < capacity else {
                    throw ModelError(.invalidGraph, "TensorScatter: write position \(position) is outside the cache's \(capacity) rows")
                }
                output.copy(from: update, (o * length + s) * inner, to: (o * capacity + position) * inner, count: inner)
            }
        }
        return [output.tensor]
    }
}

extension TensorScatter: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { TensorScatterKernel(axis: axis, circular: circular) }
}

extension ScatterElements: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ScatterElementsKernel(self, setup) }
}

extension ScatterND: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { ScatterNDKernel(reduction: reduction) }
}
