import ModelCore

/// `.npy` bytes to tensors and back.
enum NumpyArray {
    /// The tensor in the `.npy` that fills `region`, named `name`.
    ///
    /// Little-endian numbers in C order stay where they are (a view of
    /// `region`, so a mapped file is not copied); big-endian and Fortran-order
    /// arrays are copied into C order, strings decoded. Error offsets count
    /// from the start of `region`.
    static func tensor(from region: ByteRegion, name: String) throws(ModelError) -> Tensor {
        let header = try region.withBytes { (bytes) throws(ModelError) in try NumpyHeader.parse(bytes) }
        let available = region.count - header.dataOffset
        guard available >= header.dataByteCount else {
            throw ModelError(.malformed, "truncated: the array needs \(header.dataByteCount) bytes of data but \(available) remain",
                             byteOffset: region.count)
        }
        // numpy ignores what follows the data, but no writer puts anything there: it is a sign of a damaged file.
        guard available == header.dataByteCount else {
            throw ModelError(.malformed, "\(available - header.dataByteCount) unexpected bytes after the array data",
                             byteOffset: header.dataOffset + header.dataByteCount)
        }
        let start = region.range.lowerBound + header.dataOffset
        let data = ByteRegion(owner: region.owner, range: start..<(start + header.dataByteCount))
        switch header.descr.kind {
        case .numeric(let dtype):
            return try Tensor(name: name, dtype: dtype, dims: header.dims, storage: .bytes(numbers(data, header)))
        case .unicode:
            let bigEndian = header.descr.bigEndian
            let values = try strings(data, header) { (element, offset) throws(ModelError) in
                try decodeUTF32(element, offset: offset, bigEndian: bigEndian)
            }
            return try Tensor(name: name, dtype: .string, dims: header.dims, storage: .strings(values))
        case .bytes:
            let values = try strings(data, header) { (element, _) throws(ModelError) in trimmingPadding(element) }
            return try Tensor(name: name, dtype: .string, dims: header.dims, storage: .strings(values))
        }
    }

    /// The `.npy` header and the data that follows it for `tensor`, in C order.
    static func encode(_ tensor: Tensor) throws(ModelError) -> (header: [UInt8], data: ByteRegion) {
        switch tensor.storage {
        case .bytes(let region):
            guard let descr = NumpyDescr.text(for: tensor.dtype) else {
                throw ModelError(.unsupported(op: nil, dtype: tensor.dtype), "tensor '\(tensor.name)' is \(tensor.dtype), for which numpy has no type; "
                                 + "write it as a TensorProto (.pb) instead")
            }
            return (try NumpyHeader.encode(descr: descr, dims: tensor.dims), region)
        case .strings(let values):
            let (width, data) = try utf32(values, tensor: tensor.name)
            return (try NumpyHeader.encode(descr: "<U\(width)", dims: tensor.dims), data)
        }
    }

    /// Numbers in little-endian C order: `data` itself when it already is.
    private static func numbers(_ data: ByteRegion, _ header: NumpyHeader) -> ByteRegion {
        let descr = header.descr
        let swapped = descr.bigEndian && descr.swapUnit > 1
        let reordered = needsReordering(header)
        guard swapped || reordered else { return data }
        let size = descr.itemSize, unit = descr.swapUnit
        let owned = OwnedBytes(count: data.count) { target in
            data.withBytes { source in
                forEachElement(header) { (destination: Int, origin: Int) in
                    let to = destination * size, from = origin * size
                    for byte in 0..<size {
                        // Reverse the bytes within each unit (a whole element, or each half of a complex one).
                        let within = swapped ? (byte / unit) * unit + (unit - 1 - byte % unit) : byte
                        target[to + byte] = source[from + within]
                    }
                }
            }
        }
        return ByteRegion(owner: owned)
    }

    /// Fixed-width strings, each turned into its value by `decode`, which gets
    /// the element's bytes and their offset from the start of the `.npy`.
    private static func strings(_ data: ByteRegion, _ header: NumpyHeader,
                                _ decode: (UnsafeRawBufferPointer, Int) throws(ModelError) -> [UInt8]) throws(ModelError) -> [[UInt8]] {
        var values = [[UInt8]](repeating: [], count: header.elementCount)
        let size = header.descr.itemSize
        try data.withBytes { (source) throws(ModelError) in
            try forEachElement(header) { (destination: Int, origin: Int) throws(ModelError) in
                let element = UnsafeRawBufferPointer(rebasing: source[(origin * size)..<((origin + 1) * size)])
                values[destination] = try decode(element, header.dataOffset + origin * size)
            }
        }
        return values
    }

    /// A `U` element as UTF-8, without the NUL code units that pad it.
    private static func decodeUTF32(_ element: UnsafeRawBufferPointer, offset: Int, bigEndian: Bool) throws(ModelError) -> [UInt8] {
        func unit(_ index: Int) -> UInt32 {
            let raw = element.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)
            return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
        }
        var units = element.count / 4
        while units > 0 && unit(units - 1) == 0 { units -= 1 }
        var text: [UInt8] = []
        for index in 0..<units {
            guard let scalar = Unicode.Scalar(unit(index)) else {
                throw ModelError(.malformed, "a string holds 0x\(String(unit(index), radix: 16)), which is not a Unicode code point",
                                 byteOffset: offset + index * 4)
            }
            UTF8.encode(scalar) { text.append($0) }
        }
        return text
    }

    /// An `S` element without the NUL bytes that pad it.
    private static func trimmingPadding(_ element: UnsafeRawBufferPointer) -> [UInt8] {
        let end = (element.lastIndex { $0 != 0 } ?? -1) + 1
        return Array(element[..<end])
    }

    /// Text as numpy's `<U` type: each element UTF-32, NUL-padded to the longest.
    private static func utf32(_ values: [[UInt8]], tensor: String) throws(ModelError) -> (width: Int, data: ByteRegion) {
        var texts: [[Unicode.Scalar]] = []
        texts.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            guard let text = String(validating: value, as: UTF8.self) else {
                throw ModelError(.malformed, "string element \(index) of tensor '\(tensor)' is not UTF-8, and numpy stores text as "
                                 + "UTF-32; write it as a TensorProto (.pb) instead")
            }
            let scalars = Array(text.unicodeScalars)
            guard scalars.last != "\0" else {
                throw ModelError(.malformed, "string element \(index) of tensor '\(tensor)' ends with NUL, which numpy's "
                                 + "fixed-width strings cannot hold; write it as a TensorProto (.pb) instead")
            }
            texts.append(scalars)
        }
        // numpy gives an array of empty strings the width 1, too.
        let width = max(1, texts.map(\.count).max() ?? 0)
        guard let itemSize = Checked.multiply(width, 4), let byteCount = Checked.multiply(itemSize, texts.count) else {
            throw ModelError(.limit, "tensor '\(tensor)' is too large for .npy")
        }
        let owned = OwnedBytes(count: byteCount) { target in
            target.initializeMemory(as: UInt8.self, repeating: 0)
            for (index, scalars) in texts.enumerated() {
                for (position, scalar) in scalars.enumerated() {
                    target.storeBytes(of: scalar.value.littleEndian, toByteOffset: index * itemSize + position * 4, as: UInt32.self)
                }
            }
        }
        return (width, ByteRegion(owner: owned))
    }

    /// Fortran order differs from C order only when two or more axes are longer than 1.
    private static func needsReordering(_ header: NumpyHeader) -> Bool {
        header.fortranOrder && header.dims.filter { $0 > 1 }.count > 1
    }

    /// Calls `body(destination, origin)` for every element: its index in C
    /// (row-major) order and its index in the file's layout.
    private static func forEachElement<E: Error>(_ header: NumpyHeader,
                                                 _ body: (Int, Int) throws(E) -> Void) throws(E) {
        let dims = header.dims
        guard needsReordering(header) else {
            for index in 0..<header.elementCount { try body(index, index) }
            return
        }
        // Column-major strides: the first axis varies fastest in the file. No
        // stride exceeds the element count, so none overflows.
        var strides = [Int](repeating: 1, count: dims.count)
        for axis in dims.indices.dropFirst() { strides[axis] = strides[axis - 1] * dims[axis - 1] }
        var index = [Int](repeating: 0, count: dims.count)
        var origin = 0
        for destination in 0..<header.elementCount {
            try body(destination, origin)
            // Advance the row-major multi-index, last axis fastest.
            var axis = dims.count - 1
            while axis >= 0 {
                index[axis] += 1
                origin += strides[axis]
                if index[axis] < dims[axis] { break }
                origin -= strides[axis] * dims[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
