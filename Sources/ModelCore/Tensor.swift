/// A dense tensor: element type, dimensions and data.
///
/// Numeric data is always held in ONNX's `raw_data` layout (little-endian,
/// sub-byte types packed LSB-first), whichever field of the file it came
/// from, so that every consumer reads one layout. Weights read from a file are
/// regions of the memory-mapped file and are never copied.
public struct Tensor: Sendable, Equatable {
    public enum Storage: Sendable {
        case bytes(ByteRegion)
        case strings([[UInt8]])
    }

    public var name: String
    public var dtype: DType
    public var dims: [Int]
    public var storage: Storage
    public var docString: String
    /// Product of `dims`, checked at construction.
    public let elementCount: Int

    /// Builds a tensor after checking that the dims are non-negative, that
    /// their product fits, and that the data holds exactly that many elements.
    public init(name: String, dtype: DType, dims: [Int], storage: Storage, docString: String = "") throws(ModelError) {
        guard let count = Shape.product(dims) else {
            throw ModelError(.malformed, "tensor '\(name)' has invalid dims \(dims): negative or their product overflows")
        }
        switch storage {
        case .strings(let values):
            guard dtype == .string else {
                throw ModelError(.malformed, "tensor '\(name)' holds strings but is declared \(dtype)")
            }
            guard values.count == count else {
                throw ModelError(.malformed, "tensor '\(name)' has \(values.count) strings for dims \(dims) (\(count) elements)")
            }
        case .bytes(let region):
            guard dtype != .string else {
                throw ModelError(.malformed, "string tensor '\(name)' cannot hold raw bytes")
            }
            if let expected = dtype.byteCount(elements: count) {
                guard region.count == expected else {
                    throw ModelError(.malformed, "tensor '\(name)' (\(dtype), dims \(dims)) needs \(expected) bytes of data but has \(region.count)")
                }
            } else if dtype.isKnown {
                throw ModelError(.malformed, "tensor '\(name)' has \(dtype) elements and dims \(dims) whose size overflows")
            }
        }
        self.name = name
        self.dtype = dtype
        self.dims = dims
        self.storage = storage
        self.docString = docString
        self.elementCount = count
    }

    /// Bytes of numeric data (0 for string tensors).
    public var byteCount: Int {
        if case .bytes(let region) = storage { return region.count }
        return 0
    }

    /// The numeric data, or `nil` for a string tensor.
    public var bytes: ByteRegion? {
        if case .bytes(let region) = storage { return region }
        return nil
    }

    public var shape: Shape { Shape(dims) }

    /// Checks and readies the data before first use (see `ByteOwner.prepare`):
    /// a `.swm` tensor verifies its checksum and decodes here. Errors name the tensor.
    public func prepareData() throws(ModelError) {
        guard case .bytes(let region) = storage else { return }
        do {
            try region.prepare()
        } catch {
            var located = error
            located.location = located.location ?? "tensor '\(name)'"
            throw located
        }
    }

    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.name == b.name, a.dtype == b.dtype, a.dims == b.dims, a.docString == b.docString else { return false }
        switch (a.storage, b.storage) {
        case (.bytes(let x), .bytes(let y)): return x.contentsEqual(y)
        case (.strings(let x), .strings(let y)): return x == y
        default: return false
        }
    }
}
