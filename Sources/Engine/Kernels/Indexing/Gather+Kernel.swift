#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Gathers and scatters

/// Gather: entries along `axis` picked by index (negative indices count from the end).
struct GatherKernel: Kernel {
    let axis: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "data"), indices = try requiredInput(inputs, 1, "indices")
        let a = try ShapeKernels.axis(axis, rank: data.shape.count)
        let size = data.shape[a]
        let strides = Shape.strides(data.shape)
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
        let data = try requiredInput(inputs, 0, "data"), indices = try requiredInput(inputs, 1, "indices")
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
        let strides = Shape.strides(data)
        var index = Array(repeating: 0, count: indices.count)
        var result: [Int] = []
        result.reserveCapacity(values.count)
        for v in values {
            var offset = try ShapeKernels.index(v, size: data[axis]) * strides[axis]
            for k in index.indices where k != axis { offset += index[k] * strides[k] }
            result.append(offset)
            Shape.advance(&index, in: indices)
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
        let strides = Shape.strides(data)
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
        let data = try requiredInput(inputs, 0, "data"), indices = try requiredInput(inputs, 1, "indices")
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

extension Gather: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { GatherKernel(axis: axis) }
}

extension GatherElements: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { GatherElementsKernel(axis: axis) }
}

extension GatherND: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { GatherNDKernel(batchDims: batchDims) }
}
