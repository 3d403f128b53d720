import ModelCore

/// How a tensor's elements are stored in the data section, before any compression.
public enum StoredEncoding: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The tensor's own element type, little-endian: what ONNX's `raw_data` holds.
    case raw = 0
    /// float32 values rounded to IEEE half precision.
    case float16 = 1
    /// float32 values rounded to bfloat16 (the upper 16 bits, rounded to nearest even).
    case bfloat16 = 2
    /// float32 values as int8 with one float32 scale per channel along `axis`
    /// (symmetric: value = q × scale); the scales come first.
    case int8 = 3

    public var description: String {
        switch self {
        case .raw: return "raw"
        case .float16: return "f16"
        case .bfloat16: return "bf16"
        case .int8: return "int8"
        }
    }
}

/// Whether a tensor's encoded bytes are compressed.
public enum StoredCompression: UInt8, Sendable, CaseIterable {
    case none = 0
    /// Byte-shuffled by element size (all first bytes, then all second bytes, …),
    /// then a zlib stream.
    case shuffleDeflate = 1
}

/// One row of the tensor table: where a tensor's data is and how it is stored.
public struct TensorEntry: Sendable, Equatable {
    public var name: String
    /// The element type the tensor has when decoded (what the graph sees).
    public var dtype: DType
    public var dims: [Int]
    public var docString: String
    public var encoding: StoredEncoding
    public var compression: StoredCompression
    /// For `int8`: the axis whose channels have their own scale; otherwise 0.
    public var axis: Int
    /// Absolute file offset of the stored bytes; a multiple of 64.
    public var offset: Int
    /// Bytes in the file (after encoding and compression).
    public var storedLength: Int
    /// CRC-32 of the stored bytes.
    public var crc: UInt32

    /// Elements, from `dims` (checked when the entry was read or made).
    public let elementCount: Int
    /// Bytes of the decoded tensor.
    public let decodedLength: Int
    /// Bytes of the encoded stream before compression.
    public let encodedLength: Int

    /// Deflate cannot expand more than 1032:1; a compressed tensor claiming
    /// more is damaged, and decoding it would allocate more than the file justifies.
    static let maximumInflateRatio = 1032

    /// An entry, after checking that its fields agree (element count, sizes,
    /// encoding allowed for the type, axis inside the rank).
    init(name: String, dtype: DType, dims: [Int], docString: String, encoding: StoredEncoding,
         compression: StoredCompression, axis: Int, offset: Int, storedLength: Int, crc: UInt32) throws(ModelError) {
        guard dtype.isKnown, dtype != .string, dtype != .undefined else {
            throw ModelError(.malformed, "tensor '\(name)' has element type \(dtype), which a tensor table entry cannot hold")
        }
        guard let elements = Shape.product(dims), let decoded = dtype.byteCount(elements: elements) else {
            throw ModelError(.malformed, "tensor '\(name)' has invalid dims \(dims): negative or their product overflows")
        }
        let encoded: Int
        switch encoding {
        case .raw:
            guard axis == 0 else { throw ModelError(.malformed, "tensor '\(name)' is stored raw but names axis \(axis)") }
            encoded = decoded
        case .float16, .bfloat16:
            guard dtype == .float else { throw ModelError(.malformed, "tensor '\(name)' is \(dtype) but stored as \(encoding), which needs float32") }
            guard axis == 0 else { throw ModelError(.malformed, "tensor '\(name)' is stored as \(encoding) but names axis \(axis)") }
            encoded = elements * 2
        case .int8:
            guard dtype == .float else { throw ModelError(.malformed, "tensor '\(name)' is \(dtype) but stored as int8, which needs float32") }
            guard axis >= 0, axis < dims.count else {
                throw ModelError(.malformed, "tensor '\(name)' has int8 scales along axis \(axis), outside its rank \(dims.count)")
            }
            encoded = dims[axis] * 4 + elements
        }
        switch compression {
        case .none:
            guard storedLength == encoded else {
                throw ModelError(.malformed, "tensor '\(name)' (\(dtype) \(dims), \(encoding)) needs \(encoded) bytes but the table gives \(storedLength)")
            }
        case .shuffleDeflate:
            let (bound, overflow) = storedLength.multipliedReportingOverflow(by: Self.maximumInflateRatio)
            guard storedLength > 0, overflow || encoded <= bound else {
                throw ModelError(.malformed, "tensor '\(name)' claims \(encoded) bytes from \(storedLength) compressed bytes, more than deflate can expand")
            }
        }
        self.name = name
        self.dtype = dtype
        self.dims = dims
        self.docString = docString
        self.encoding = encoding
        self.compression = compression
        self.axis = axis
        self.offset = offset
        self.storedLength = storedLength
        self.crc = crc
        self.elementCount = elements
        self.decodedLength = decoded
        self.encodedLength = encoded
    }

    /// Bytes per element of the encoded stream, the unit of byte shuffling.
    var shuffleUnit: Int {
        switch encoding {
        case .raw: return max(1, (dtype.bitsPerElement ?? 8) / 8)
        case .float16, .bfloat16: return 2
        case .int8: return 1
        }
    }

    func encode(into w: inout ByteWriter) {
        w.string(name)
        w.signed(Int64(dtype.rawValue))
        w.count(dims.count)
        for d in dims { w.count(d) }
        w.string(docString)
        w.byte(encoding.rawValue)
        w.byte(compression.rawValue)
        w.count(axis)
        w.count(offset)
        w.count(storedLength)
        w.uint32(crc)
    }

    static func decode(_ r: inout ByteReader) throws(ModelError) -> TensorEntry {
        let start = r.position
        let name = try r.string(of: "tensor name")
        let codeAt = r.position
        let code = try r.signed()
        guard let dtypeCode = Int32(exactly: code) else { throw r.error("element type \(code) is out of range", at: codeAt) }
        let dims = try r.list(of: "dimension") { r throws(ModelError) in try r.int() }
        let docString = try r.string(of: "doc string")
        let encodingAt = r.position
        guard let encoding = StoredEncoding(rawValue: try r.byte()) else {
            throw r.error("tensor '\(name)' has an unknown encoding", at: encodingAt)
        }
        let compressionAt = r.position
        guard let compression = StoredCompression(rawValue: try r.byte()) else {
            throw r.error("tensor '\(name)' has an unknown compression", at: compressionAt)
        }
        let axis = try r.int()
        let offset = try r.int()
        let storedLength = try r.int()
        let crc = try r.uint32()
        do {
            return try TensorEntry(name: name, dtype: DType(rawValue: dtypeCode), dims: dims, docString: docString,
                                   encoding: encoding, compression: compression, axis: axis, offset: offset,
                                   storedLength: storedLength, crc: crc)
        } catch {
            throw r.error(error.message, at: start)
        }
    }
}
