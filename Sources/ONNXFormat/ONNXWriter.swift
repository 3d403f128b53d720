internal import CONNX
internal import CProtobufC
import ModelCore

/// Where and how `ONNXWriter` stores large tensors outside the model file.
///
/// A protobuf message cannot exceed 2 GB, so bigger models must keep their
/// weights in a side file (ONNX "external data"). Aligned offsets let a reader
/// map the side file and use the weights in place.
public struct ExternalDataPolicy: Sendable, Equatable {
    /// The side file's name: a plain file name, resolved next to the model, e.g. `model.onnx.data`.
    public var location: String
    /// Tensors with at least this many bytes of data go to the side file.
    public var threshold: Int
    /// Every tensor's offset in the side file is a multiple of this.
    public var alignment: Int

    /// A policy writing tensors of at least `threshold` bytes to `location`, each at a multiple of `alignment`.
    public init(location: String, threshold: Int = 1024, alignment: Int = 64) {
        self.location = location
        self.threshold = threshold
        self.alignment = alignment
    }
}

/// Writes a `Model` as an ONNX file.
///
/// Every field of the model is written. Numeric tensors go to `raw_data`
/// (their bytes are passed to the file straight from where they live, never
/// copied into an intermediate message), string tensors to `string_data`.
/// An empty string is written as an absent field, which ONNX reads back as
/// the same empty string.
public struct ONNXWriter: Sendable {
    /// Which tensors go to a side file; `nil` keeps all data in the model file.
    public var externalData: ExternalDataPolicy?

    /// A writer that keeps tensor data in the model file unless `externalData` says otherwise.
    public init(externalData: ExternalDataPolicy? = nil) {
        self.externalData = externalData
    }

    /// Writes `model` to `path` (and its side file, with an external-data policy).
    ///
    /// Each file is written under a temporary name in the target's folder and
    /// renamed over the target only once complete, so a failed write never
    /// leaves a partial file under the final name. The side file is renamed
    /// first, so a new model file never exists without its data; two renames
    /// cannot be one atomic step, though, so an old model file is briefly
    /// paired with the new side file. No side file is written when no tensor
    /// qualifies for it.
    /// - Throws: `ModelError` naming the file and the reason, e.g. "cannot
    ///   write: No space left on device"; or, when the model would exceed
    ///   protobuf's 2 GB limit, one suggesting external data.
    public func write(_ model: Model, to path: String) throws(ModelError) {
        let layout = try externalData.map { policy throws(ModelError) in try ExternalLayout(policy: policy, modelPath: path) }
        // The builder's arena holds every C struct that `root` points into, and
        // `model` owns every tensor byte they point at: both must outlive packing.
        let builder = ProtoBuilder(layout: layout)
        defer { withExtendedLifetime(builder) {} }
        let root: UnsafePointer<ProtobufCMessage>
        do {
            root = try builder.model(model).withMessageBase()
        } catch {
            throw error.inFile(path)
        }
        _ = try Self.checkedSize(root, policy: externalData, file: path)

        var staged: [StagedFile] = []
        do {
            if let layout, !layout.pieces.isEmpty {
                let side = try StagedFile(target: layout.path)
                staged.append(side)
                try layout.write(to: side)
            }
            let main = try StagedFile(target: path)
            staged.append(main)
            try main.pack(root)
            for file in staged { try file.finish() }
            for file in staged { try file.commit() }
        } catch {
            for file in staged { file.discard() }
            throw error
        }
    }

    /// The bytes of `model` as an ONNX file, all tensor data included
    /// (external data needs a file, so `externalData` does not apply here).
    /// - Throws: `ModelError` when the model would exceed protobuf's 2 GB limit.
    public func serialize(_ model: Model) throws(ModelError) -> [UInt8] {
        let builder = ProtoBuilder(layout: nil)
        defer { withExtendedLifetime(builder) {} }
        let root = try builder.model(model).withMessageBase()
        let size = try Self.checkedSize(root, policy: nil, file: nil)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            count = protobuf_c_message_pack(root, base)
        }
    }

    /// The bytes of `tensor` as a standalone ONNX `TensorProto`, as in the
    /// `input_0.pb` files of ONNX test data.
    /// - Throws: `ModelError` when a name holds a NUL byte or the message would exceed protobuf's 2 GB.
    public static func serializeTensor(_ tensor: Tensor) throws(ModelError) -> [UInt8] {
        let builder = ProtoBuilder(layout: nil)
        defer { withExtendedLifetime(builder) {} }
        let (root, size) = try valueMessage(.tensor(tensor), builder)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            count = protobuf_c_message_pack(root, base)
        }
    }

    /// Writes `tensor` to `path` as a standalone `TensorProto`, under a
    /// temporary name renamed over `path` only once complete.
    public static func writeTensor(_ tensor: Tensor, to path: String) throws(ModelError) {
        try writeValue(.tensor(tensor), to: path)
    }

    /// Writes `value` to `path` as ONNX test data does: a `TensorProto`, a
    /// `SequenceProto` or an `OptionalProto` (what `ONNXReader.readValue` reads).
    public static func writeValue(_ value: StoredValue, to path: String) throws(ModelError) {
        let builder = ProtoBuilder(layout: nil)
        defer { withExtendedLifetime(builder) {} }
        let root: UnsafePointer<ProtobufCMessage>
        do {
            root = try valueMessage(value, builder).root
        } catch {
            throw error.inFile(path)
        }
        let file = try StagedFile(target: path)
        do {
            try file.pack(root)
            try file.finish()
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    }

    /// The message for a standalone `value`, built in `builder`'s arena, and its size.
    private static func valueMessage(_ value: StoredValue, _ builder: ProtoBuilder) throws(ModelError)
        -> (root: UnsafePointer<ProtobufCMessage>, size: Int) {
        let root = try builder.standalone(value)
        let size = protobuf_c_message_get_packed_size(root)
        guard size <= protobufLimit else {
            let what = if case .tensor(let tensor) = value { "tensor '\(tensor.name)'" } else { value.kind }
            throw ModelError(.limit, "\(what) would be \(size) bytes as a protobuf message, over protobuf's 2 GB limit")
        }
        return (root, size)
    }

    /// The largest message protobuf can read back (its lengths are signed 32-bit).
    public static let protobufLimit = Int(Int32.max)

    /// The serialized size of `root`, after checking it against `protobufLimit`.
    static func checkedSize(_ root: UnsafePointer<ProtobufCMessage>, policy: ExternalDataPolicy?,
                            file: String?) throws(ModelError) -> Int {
        let size = protobuf_c_message_get_packed_size(root)
        guard size > protobufLimit else { return size }
        let gigabytes = (Double(size) / 1e7).rounded() / 100
        if let policy {
            throw ModelError(.limit, "the model is \(gigabytes) GB even with tensors of \(policy.threshold) bytes or more in "
                             + "'\(policy.location)', over protobuf's 2 GB limit; lower the external-data threshold",
                             file: file)
        }
        let sideFile = file.map { StagedFile.split($0).name + ".data" } ?? "model.onnx.data"
        throw ModelError(.limit, "the model would be \(gigabytes) GB, over protobuf's 2 GB limit for one file; write it with "
                         + "external data, e.g. ONNXWriter(externalData: ExternalDataPolicy(location: \"\(sideFile)\"))"
                         + (file == nil ? ".write(_:to:)" : ""),
                         file: file)
    }
}

// MARK: - External data

/// The side file's contents: which tensor bytes go where.
final class ExternalLayout {
    let policy: ExternalDataPolicy
    /// The side file's path: `policy.location` in the model's folder.
    let path: String
    private(set) var pieces: [(region: ByteRegion, offset: Int)] = []
    private var end = 0
    /// Far above any page size (the largest useful alignment), and small
    /// enough that the padding cannot overflow an offset.
    static let maximumAlignment = 1 << 30

    init(policy: ExternalDataPolicy, modelPath: String) throws(ModelError) {
        let name = policy.location
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
            throw ModelError(.usage, "external-data location '\(name)' must be a plain file name, to be placed next to the model",
                             file: modelPath)
        }
        guard policy.threshold >= 0, (1...Self.maximumAlignment).contains(policy.alignment) else {
            throw ModelError(.usage, "external-data threshold must be at least 0 and alignment between 1 and "
                             + "\(Self.maximumAlignment) (got \(policy.threshold) and \(policy.alignment))", file: modelPath)
        }
        let (folder, modelName) = StagedFile.split(modelPath)
        guard name != modelName else {
            throw ModelError(.usage, "external-data location '\(name)' is the model file itself", file: modelPath)
        }
        self.policy = policy
        self.path = folder + name
    }

    /// Whether a tensor with `region` as its data goes to the side file.
    func takes(_ region: ByteRegion) -> Bool {
        region.count >= policy.threshold
    }

    /// Reserves an aligned place for `region` and returns its offset.
    func place(_ region: ByteRegion) -> Int {
        let alignment = policy.alignment
        let offset = (end + alignment - 1) / alignment * alignment
        pieces.append((region, offset))
        end = offset + region.count
        return offset
    }

    /// Writes every placed region at its offset, zeros in between.
    func write(to file: StagedFile) throws(ModelError) {
        let zeros = [UInt8](repeating: 0, count: policy.alignment)
        var position = 0
        for piece in pieces {
            let padding = piece.offset - position
            if padding > 0 {
                try zeros.withUnsafeBytes { file.write(UnsafeRawBufferPointer(rebasing: $0[0..<padding])) }.get()
            }
            try piece.region.withUnsafeBytes { file.write($0) }.get()
            position = piece.offset + piece.region.count
        }
    }
}

// MARK: - Files

extension StagedFile {
    /// Serializes `message` into the file through a small staging buffer.
    func pack(_ message: UnsafePointer<ProtobufCMessage>) throws(ModelError) {
        var reason = [CChar](repeating: 0, count: 128)
        guard onnx_pack_to_fd(message, descriptor, &reason, reason.count) == 0 else {
            let text = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ModelError(.io, "cannot write: " + text, file: target)
        }
    }
}
