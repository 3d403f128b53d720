internal import CONNX
internal import CProtobufC
import ModelCore

/// A tensor as an ONNX `TensorProto` built through protobuf-c: numbers in
/// `raw_data` (pointing at the tensor's own bytes, not copied), strings in
/// `string_data`.
enum TensorProtoEncoding {
    /// protobuf's limit for one message: its lengths are signed 32-bit.
    static let protobufLimit = Int(Int32.max)

    /// Runs `body` with the message for `tensor` and its packed size. The
    /// message points into `tensor`'s storage and is valid only inside `body`.
    static func withMessage<R>(_ tensor: Tensor,
                               _ body: (UnsafePointer<ProtobufCMessage>, Int) throws(ModelError) -> R) throws(ModelError) -> R {
        let arena = Arena()
        let proto = arena.allocate(Onnx__TensorProto.self, count: 1)
        onnx__tensor_proto__init(proto)
        proto.pointee.n_dims = tensor.dims.count
        proto.pointee.dims = arena.copy(tensor.dims.map { Int64($0) })
        proto.pointee.has_data_type = 1
        proto.pointee.data_type = tensor.dtype.rawValue
        proto.pointee.name = try arena.optionalCString(tensor.name, field: "name")
        proto.pointee.doc_string = try arena.optionalCString(tensor.docString, field: "doc_string")
        switch tensor.storage {
        case .strings(let values):
            let entries = arena.allocate(ProtobufCBinaryData.self, count: values.count)
            for (index, value) in values.enumerated() {
                entries[index] = ProtobufCBinaryData(len: value.count, data: arena.copy(value))
            }
            proto.pointee.n_string_data = values.count
            proto.pointee.string_data = entries
        case .bytes(let region):
            let bytes = UnsafeRawBufferPointer(rebasing: region.owner.bytes[region.range])
            proto.pointee.has_raw_data = 1
            // protobuf-c only reads through this pointer.
            proto.pointee.raw_data = ProtobufCBinaryData(
                len: bytes.count, data: bytes.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self)) })
        }
        let message = UnsafeRawPointer(proto).assumingMemoryBound(to: ProtobufCMessage.self)
        let size = protobuf_c_message_get_packed_size(message)
        guard size <= protobufLimit else {
            throw ModelError(.limit, "tensor '\(tensor.name)' would be \(size) bytes as a TensorProto, over protobuf's 2 GB limit")
        }
        // The arena and the tensor's storage must outlive every use of the message.
        defer { withExtendedLifetime((arena, tensor)) {} }
        return try body(message, size)
    }
}

/// Memory for protobuf-c structs, freed all at once when the arena goes.
private final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit {
        for block in blocks { block.deallocate() }
    }

    /// Zero-filled room for `count` values of `type`.
    func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let size = max(1, MemoryLayout<T>.stride * count)
        let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<T>.alignment)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        blocks.append(block)
        return block.bindMemory(to: T.self, capacity: count)
    }

    /// A copy of `values`, or `nil` when empty (protobuf-c's "no elements").
    func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let target = allocate(T.self, count: values.count)
        _ = UnsafeMutableBufferPointer(start: target, count: values.count).initialize(from: values)
        return target
    }

    /// A NUL-terminated copy of `text`, or `nil` (an absent field) when empty.
    func optionalCString(_ text: String, field: String) throws(ModelError) -> UnsafeMutablePointer<CChar>? {
        guard !text.isEmpty else { return nil }
        let bytes = Array(text.utf8)
        guard !bytes.contains(0) else {
            throw ModelError(.malformed, "the tensor's \(field) contains a NUL byte, which a TensorProto string cannot hold")
        }
        let target = allocate(CChar.self, count: bytes.count + 1)
        for (index, byte) in bytes.enumerated() { target[index] = CChar(bitPattern: byte) }
        return target
    }
}
