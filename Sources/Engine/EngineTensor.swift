#if canImport(Glibc)
import Glibc
#endif
import ModelCore
import Synchronization

/// Memory holding a tensor's elements: allocated by the engine, or a
/// read-only view into a stored tensor (mapped weights are never copied when
/// their alignment allows).
public final class TensorBuffer: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int
    /// Keeps the mapped file (or other owner) alive for a view; `nil` when the engine owns the memory.
    private let owner: (any ByteOwner)?

    /// Large blocks come from `BlockPool`: mapped from the system, and reused
    /// for later activations once their tensor dies. (glibc's malloc raises
    /// its mmap threshold to the largest block freed so far, after which
    /// freed activations stay in its heap, and fresh mappings on every run
    /// would page-fault on every activation.)
    static let systemBlockSize = 256 * 1024

    private let pooledCapacity: Int?

    /// Uninitialised memory for `byteCount` bytes, 64-byte aligned.
    /// - Throws: `ModelError` (`.limit`) when the request would pass the
    ///   engine's memory limit (`EngineMemory`) or the system refuses it.
    public init(byteCount: Int) throws(ModelError) {
        try EngineMemory.reserve(byteCount)
        self.byteCount = byteCount
        owner = nil
        if byteCount >= Self.systemBlockSize, let block = BlockPool.shared.take(byteCount) {
            base = block.base
            pooledCapacity = block.capacity
        } else {
            // posix_memalign reports failure, where Swift's allocate would abort the process.
            var memory: UnsafeMutableRawPointer?
            guard posix_memalign(&memory, 64, max(byteCount, 1)) == 0, let memory else {
                EngineMemory.release(byteCount)
                throw ModelError(.limit, "the system refused \(byteCount) bytes for a tensor")
            }
            base = memory
            pooledCapacity = nil
        }
    }

    /// No bytes: the storage of a string tensor, whose elements live beside it.
    static let empty = TensorBuffer()

    private init() {
        byteCount = 0
        owner = nil
        pooledCapacity = nil
        base = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
    }

    /// Zero-filled memory for `byteCount` bytes.
    public convenience init(zeroed byteCount: Int) throws(ModelError) {
        try self.init(byteCount: byteCount)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
    }

    /// A view of `region`; the caller only reads through it.
    init(viewing region: ByteRegion) {
        base = UnsafeMutableRawPointer(mutating: region.withUnsafeBytes { $0.baseAddress } ?? UnsafeRawPointer(bitPattern: 64)!)
        byteCount = region.count
        owner = region.owner
        pooledCapacity = nil
    }

    deinit {
        if owner != nil { return }
        if let pooledCapacity { BlockPool.shared.give(base, capacity: pooledCapacity) } else { free(base) }
        EngineMemory.release(byteCount)
    }
}

/// A tensor during execution: element type, shape and contiguous row-major elements.
public struct EngineTensor: @unchecked Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let count: Int
    public let buffer: TensorBuffer
    /// The elements of a string tensor (`buffer` is empty then).
    public let strings: [[UInt8]]?

    /// A new tensor with uninitialised storage.
    public init(dtype: DType, shape: [Int]) throws(ModelError) {
        guard let count = Shape.product(shape), let bytes = dtype.byteCount(elements: count) else {
            throw ModelError(.limit, "cannot allocate a \(dtype) tensor of shape \(shape)")
        }
        self.dtype = dtype
        self.shape = shape
        self.count = count
        buffer = try TensorBuffer(byteCount: bytes)
        strings = dtype == .string ? Array(repeating: [], count: count) : nil
    }

    /// A tensor over existing storage.
    public init(dtype: DType, shape: [Int], buffer: TensorBuffer) {
        self.dtype = dtype
        self.shape = shape
        self.count = Shape.product(shape) ?? 0
        self.buffer = buffer
        strings = nil
    }

    /// A string tensor.
    public init(strings: [[UInt8]], shape: [Int]) {
        dtype = .string
        self.shape = shape
        count = strings.count
        buffer = .empty
        self.strings = strings
    }

    /// A float32 tensor holding `values`.
    public init(floats values: [Float], shape: [Int]) throws(ModelError) {
        try self.init(dtype: .float, shape: shape)
        let target = buffer.base.assumingMemoryBound(to: Float.self)
        for (i, v) in values.prefix(count).enumerated() { target[i] = v }
    }

    /// The engine's form of a stored tensor: a view when the data is aligned for its type, else a copy.
    /// Throws when the stored data fails its check (a `.swm` tensor's checksum or decoding).
    public init(_ tensor: Tensor) throws(ModelError) {
        switch tensor.storage {
        case .strings(let values):
            self.init(strings: values, shape: tensor.dims)
        case .bytes(let region):
            try tensor.prepareData()
            let address = region.withUnsafeBytes { Int(bitPattern: $0.baseAddress) }
            if region.count > 0 && (Self.unalignedLoadsAreSafe || address % Self.alignment(of: tensor.dtype) == 0) {
                self.init(dtype: tensor.dtype, shape: tensor.dims, buffer: TensorBuffer(viewing: region))
            } else {
                try self.init(dtype: tensor.dtype, shape: tensor.dims)
                let target = buffer.base
                region.withUnsafeBytes { source in
                    if let from = source.baseAddress, source.count > 0 { target.copyMemory(from: from, byteCount: source.count) }
                }
            }
        }
    }

    /// Exporters place `raw_data` at any byte offset, so most weights in an
    /// ONNX file are not aligned to their element size (23 of VGG-16's 32).
    /// x86-64 and arm64 load unaligned scalars and vectors correctly and the
    /// compiler emits unaligned vector loads for element-aligned types, so
    /// there the engine reads weights in place instead of copying them.
    static let unalignedLoadsAreSafe: Bool = {
        #if arch(x86_64) || arch(arm64)
        return true
        #else
        return false
        #endif
    }()

    static func alignment(of dtype: DType) -> Int {
        max(1, min(8, (dtype.bitsPerElement ?? 8) / 8))
    }

    /// The elements as `T`; the caller has checked `dtype`.
    public func elements<T>(_ type: T.Type) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: buffer.base.assumingMemoryBound(to: T.self), count: count)
    }

    /// float32 elements.
    public var floats: UnsafeMutableBufferPointer<Float> { elements(Float.self) }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ shape: [Int]) -> EngineTensor {
        if let strings { return EngineTensor(strings: strings, shape: shape) }
        return EngineTensor(dtype: dtype, shape: shape, buffer: buffer)
    }

    /// This tensor as a ModelCore tensor (copying the elements), e.g. to write it to a file.
    public func stored(name: String) throws(ModelError) -> Tensor {
        if let strings { return try Tensor(name: name, dtype: .string, dims: shape, storage: .strings(strings)) }
        let bytes = UnsafeRawBufferPointer(start: buffer.base, count: buffer.byteCount)
        return try Tensor(name: name, dtype: dtype, dims: shape, storage: .bytes(ByteRegion(owner: OwnedBytes(copying: bytes))))
    }
}
