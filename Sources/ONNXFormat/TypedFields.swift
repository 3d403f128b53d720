internal import CONNX
internal import CProtobufC
import ModelCore

/// Reads a tensor stored in TensorProto's typed fields (`float_data`,
/// `int32_data`, …) into the `raw_data` layout that ModelCore uses.
///
/// Which field holds which type follows the ONNX IR specification: float16,
/// bfloat16, float8 and 8/16-bit integers keep one element's bit pattern per
/// `int32_data` entry; 4-bit types two elements per entry (one byte), 2-bit
/// types four; float6 one element per entry, packed here into the 6-bit
/// stream of `raw_data`. Typed fields are small in practice (exporters put
/// weights in `raw_data`), so they are copied.
struct TypedFields {
    let tensor: Onnx__TensorProto
    let dtype: DType
    let count: Int
    let name: String

    func storage() throws(ModelError) -> Tensor.Storage {
        let t = tensor
        switch dtype {
        case .string:
            let values = buffer(t.n_string_data, t.string_data).map(bytes)
            try expect(values.count, count, field: "string_data")
            return .strings(values)
        case .float:
            return .bytes(try copy(buffer(t.n_float_data, t.float_data), expected: count, field: "float_data"))
        case .complex64:
            return .bytes(try copy(buffer(t.n_float_data, t.float_data), expected: 2 * count, field: "float_data"))
        case .double:
            return .bytes(try copy(buffer(t.n_double_data, t.double_data), expected: count, field: "double_data"))
        case .complex128:
            return .bytes(try copy(buffer(t.n_double_data, t.double_data), expected: 2 * count, field: "double_data"))
        case .int64:
            return .bytes(try copy(buffer(t.n_int64_data, t.int64_data), expected: count, field: "int64_data"))
        case .uint64:
            return .bytes(try copy(buffer(t.n_uint64_data, t.uint64_data), expected: count, field: "uint64_data"))
        case .uint32:
            let values = buffer(t.n_uint64_data, t.uint64_data).map { UInt32(truncatingIfNeeded: $0) }
            return .bytes(try values.withUnsafeBufferPointer { v throws(ModelError) in try copy(v, expected: count, field: "uint64_data") })
        case .int32:
            return .bytes(try copy(buffer(t.n_int32_data, t.int32_data), expected: count, field: "int32_data"))
        case .int16, .uint16, .float16, .bfloat16:
            let values = buffer(t.n_int32_data, t.int32_data).map { UInt16(truncatingIfNeeded: $0) }
            return .bytes(try values.withUnsafeBufferPointer { v throws(ModelError) in try copy(v, expected: count, field: "int32_data") })
        case .int8, .uint8, .bool, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0:
            return .bytes(try lowBytes(expected: count))
        case .int4, .uint4, .float4e2m1:
            return .bytes(try lowBytes(expected: (count + 1) / 2))
        case .int2, .uint2:
            return .bytes(try lowBytes(expected: (count + 3) / 4))
        case .float6e2m3, .float6e3m2:
            return .bytes(try packedSixBit())
        default:
            throw ModelError(.malformed, "tensor '\(name)' has element type \(dtype) and no raw_data; its typed fields cannot be read")
        }
    }

    private func expect(_ actual: Int, _ expected: Int, field: String) throws(ModelError) {
        guard actual == expected else {
            throw ModelError(.malformed, "tensor '\(name)' (\(dtype)) has \(actual) values in \(field) but needs \(expected)")
        }
    }

    private func copy<T>(_ values: UnsafeBufferPointer<T>, expected: Int, field: String) throws(ModelError) -> ByteRegion {
        try expect(values.count, expected, field: field)
        return ByteRegion(owner: OwnedBytes(copying: UnsafeRawBufferPointer(values)))
    }

    /// One byte per `int32_data` entry: its low eight bits.
    private func lowBytes(expected: Int) throws(ModelError) -> ByteRegion {
        let values = buffer(tensor.n_int32_data, tensor.int32_data)
        try expect(values.count, expected, field: "int32_data")
        return ByteRegion(copying: values.map { UInt8(truncatingIfNeeded: $0) })
    }

    /// Packs one 6-bit code per entry into an LSB-first bitstream.
    private func packedSixBit() throws(ModelError) -> ByteRegion {
        let values = buffer(tensor.n_int32_data, tensor.int32_data)
        try expect(values.count, count, field: "int32_data")
        var packed = [UInt8](repeating: 0, count: (count * 6 + 7) / 8)
        for (i, value) in values.enumerated() {
            let code = UInt32(truncatingIfNeeded: value) & 0x3F
            for bit in 0..<6 where code & (1 << UInt32(bit)) != 0 {
                let position = i * 6 + bit
                packed[position >> 3] |= 1 << UInt8(position & 7)
            }
        }
        return ByteRegion(copying: packed)
    }
}
