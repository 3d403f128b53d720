#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

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
        case .bfloat16: return read(UInt16.self) { Double(ElementCodec.float(bfloat16Bits: $0)) }
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
        case .bfloat16: return write(UInt16.self) { ElementCodec.bfloat16Bits(Float($0)) }
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

    /// A tensor of `dtype` holding `values`, converted. A lazy sequence is
    /// written straight into the tensor, never gathered first.
    static func tensor(_ values: some Sequence<Double>, dtype: DType, shape: [Int]) throws(ModelError) -> EngineTensor {
        let write = try writer(dtype)
        let tensor = try EngineTensor(dtype: dtype, shape: shape)
        for (i, v) in values.prefix(tensor.count).enumerated() { write(tensor.buffer.base, i, v) }
        return tensor
    }

    /// An integer tensor of `dtype` holding `values`, wrapped to its width.
    static func tensor(integers values: some Sequence<Int>, dtype: DType, shape: [Int]) throws(ModelError) -> EngineTensor {
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
}
