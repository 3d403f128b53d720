import ModelCore

/// An element type as a `.npy` header's `descr` spells it: `<f4`, `|b1`, `<U7`.
struct NumpyDescr: Equatable {
    /// What the elements are.
    enum Kind: Equatable {
        /// Numbers or booleans with an ONNX counterpart.
        case numeric(DType)
        /// Fixed-width text of this many UTF-32 code units (`U`); trailing NULs are padding.
        case unicode(characters: Int)
        /// Fixed-width byte strings of this many bytes (`S`); trailing NULs are padding.
        case bytes(count: Int)
    }

    let kind: Kind
    /// Multi-byte elements are stored most significant byte first (`>`).
    let bigEndian: Bool
    /// Bytes per element in the file.
    let itemSize: Int

    /// numpy's type codes (without byte order) for the ONNX types it has.
    private static let numericCodes: [(code: String, dtype: DType)] = [
        ("b1", .bool), ("i1", .int8), ("u1", .uint8), ("i2", .int16), ("u2", .uint16), ("f2", .float16),
        ("i4", .int32), ("u4", .uint32), ("f4", .float), ("i8", .int64), ("u8", .uint64), ("f8", .double),
        ("c8", .complex64), ("c16", .complex128),
    ]

    /// Bytes that are swapped as a unit on a big-endian file: the element, or half of a complex one.
    var swapUnit: Int {
        if case .numeric(let dtype) = kind, dtype == .complex64 || dtype == .complex128 { return itemSize / 2 }
        if case .unicode = kind { return 4 }
        return itemSize
    }

    /// Parses a `descr` string; `offset` is where its literal starts in the file.
    init(parsing text: String, offset: Int) throws(ModelError) {
        func refuse(_ reason: String) -> ModelError {
            ModelError(.unsupported(op: nil, dtype: nil), "unsupported .npy dtype '\(text.prefix(40))': " + reason, byteOffset: offset)
        }
        var code = Substring(text)
        var bigEndian = false
        // '=' is the writer's native order: little-endian on every platform this builds for, as is no order at all.
        if let first = code.first, "<>|=".contains(first) {
            bigEndian = first == ">"
            code = code.dropFirst()
        }
        if let entry = Self.numericCodes.first(where: { $0.code == code }), let bits = entry.dtype.bitsPerElement {
            self.init(kind: .numeric(entry.dtype), bigEndian: bigEndian, itemSize: bits / 8)
            return
        }
        guard let letter = code.first else { throw refuse("no type code") }
        let digits = code.dropFirst()
        switch letter {
        case "U", "S":
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let width = Int(digits) else {
                throw refuse("bad string width")
            }
            guard width > 0 else { throw refuse("zero-width strings") }
            if letter == "S" {
                self.init(kind: .bytes(count: width), bigEndian: false, itemSize: width)
                return
            }
            guard let size = Checked.multiply(width, 4) else { throw refuse("string width too large") }
            self.init(kind: .unicode(characters: width), bigEndian: bigEndian, itemSize: size)
        case "O":
            throw refuse("object arrays hold pickled Python objects, which are not read")
        case "V":
            throw refuse("raw void records (bfloat16 and other ml_dtypes types are saved this way) have no element type")
        case "M", "m":
            throw refuse("datetime and timedelta arrays have no ONNX type")
        case "f", "i", "u", "c", "b":
            throw refuse("no ONNX type of this size")
        default:
            throw refuse("unknown type code")
        }
    }

    private init(kind: Kind, bigEndian: Bool, itemSize: Int) {
        self.kind = kind
        self.bigEndian = bigEndian
        self.itemSize = itemSize
    }

    /// The `descr` numpy writes for `dtype` (`<f4`, `|u1`), or `nil` if numpy has no such type.
    static func text(for dtype: DType) -> String? {
        guard let entry = numericCodes.first(where: { $0.dtype == dtype }), let bits = dtype.bitsPerElement else { return nil }
        return (bits == 8 ? "|" : "<") + entry.code
    }
}

/// The header of a `.npy` file: magic, version, header length, then a
/// Python dictionary literal padded with spaces to a multiple of 64 bytes.
struct NumpyHeader {
    let descr: NumpyDescr
    let fortranOrder: Bool
    let dims: [Int]
    let elementCount: Int
    /// Where the array's bytes begin: the length of magic, version, length field and header text.
    let dataOffset: Int
    /// Bytes of array data the header promises.
    let dataByteCount: Int

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    /// The longest header text read or written. numpy itself refuses more
    /// than 10,000 bytes by default (and 64 dimensions); 1 MiB allows ranks
    /// in the hundred thousands while bounding what a header can make the
    /// parser build, or an `.npz` member make the reader inflate before its
    /// sizes are known.
    static let maximumHeaderLength = 1 << 20
    /// numpy aligns the data to this many bytes from the start of the file.
    static let alignment = 64

    /// The offset where the array data starts, read from the first 10 or 12
    /// bytes (magic, version, header length); the result may lie past the end of `bytes`.
    static func dataOffset(_ bytes: UnsafeRawBufferPointer) throws(ModelError) -> Int {
        let reader = ByteReader(bytes: bytes)
        let magicCount = min(bytes.count, magic.count)
        guard bytes.prefix(magicCount).elementsEqual(magic.prefix(magicCount)) else {
            throw ModelError(.malformed, "not a .npy array: it does not start with \\x93NUMPY", byteOffset: 0)
        }
        guard bytes.count >= 8 else { throw ModelError(.malformed, "truncated inside the .npy magic and version", byteOffset: bytes.count) }
        let major = bytes[6], minor = bytes[7]
        guard (1...3).contains(major), minor == 0 else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "unsupported .npy format version \(major).\(minor) (1.0, 2.0 and 3.0 are read)", byteOffset: 6)
        }
        // Version 1.0 has a 2-byte header length; 2.0 and 3.0 have 4 bytes.
        let length = major == 1 ? reader.u16(8).map(Int.init) : reader.u32(8).map(Int.init)
        guard let length else { throw ModelError(.malformed, "truncated inside the .npy header length", byteOffset: bytes.count) }
        guard length <= maximumHeaderLength else {
            throw ModelError(.limit, "the .npy header claims \(length) bytes, more than the \(maximumHeaderLength) this reader accepts",
                             byteOffset: 8)
        }
        return (major == 1 ? 10 : 12) + length
    }

    /// Parses the header at the start of `bytes`; offsets in errors are from the start of `bytes`.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ModelError) -> NumpyHeader {
        let dataOffset = try dataOffset(bytes)
        let textStart = bytes[6] == 1 ? 10 : 12
        guard dataOffset <= bytes.count else {
            throw ModelError(.malformed, "truncated: the .npy header is \(dataOffset - textStart) bytes long but only \(bytes.count - textStart) follow",
                             byteOffset: textStart)
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[textStart..<dataOffset])
        let literal = try PythonLiteral.parse(text, base: textStart, utf8: bytes[6] == 3)
        return try interpret(literal, dataOffset: dataOffset)
    }

    /// Checks the dictionary's keys and values the way numpy does, and sizes the array.
    private static func interpret(_ literal: PythonLiteral, dataOffset: Int) throws(ModelError) -> NumpyHeader {
        func bad(_ message: String, _ at: PythonLiteral) -> ModelError {
            ModelError(.malformed, "bad .npy header: " + message, byteOffset: at.offset)
        }
        guard case .dictionary(let entries) = literal.value else {
            throw bad("expected a dictionary but found \(literal.kindName)", literal)
        }
        var fields: [String: PythonLiteral] = [:]
        for (key, value) in entries {
            guard case .string(let name) = key.value else { throw bad("a key is \(key.kindName), not a string", key) }
            guard ["descr", "fortran_order", "shape"].contains(name) else {
                throw bad("unexpected key '\(name.prefix(40))' (a header has 'descr', 'fortran_order' and 'shape')", key)
            }
            guard fields[name] == nil else { throw bad("key '\(name)' appears twice", key) }
            fields[name] = value
        }
        guard let descrLiteral = fields["descr"], let orderLiteral = fields["fortran_order"], let shapeLiteral = fields["shape"] else {
            let missing = ["descr", "fortran_order", "shape"].filter { fields[$0] == nil }
            throw bad("no '\(missing.joined(separator: "', '"))'", literal)
        }

        let descr: NumpyDescr
        switch descrLiteral.value {
        case .string(let text): descr = try NumpyDescr(parsing: text, offset: descrLiteral.offset)
        case .list: throw bad("structured arrays (a list of fields as descr) are not supported", descrLiteral)
        default: throw bad("'descr' is \(descrLiteral.kindName), not a string", descrLiteral)
        }
        guard case .boolean(let fortranOrder) = orderLiteral.value else {
            throw bad("'fortran_order' is \(orderLiteral.kindName), not True or False", orderLiteral)
        }
        guard case .tuple(let entriesOfShape) = shapeLiteral.value else {
            throw bad("'shape' is \(shapeLiteral.kindName), not a tuple", shapeLiteral)
        }
        var dims: [Int] = []
        for entry in entriesOfShape {
            guard case .integer(let dim) = entry.value else { throw bad("a dimension is \(entry.kindName), not an integer", entry) }
            guard dim >= 0 else { throw bad("negative dimension \(dim)", entry) }
            dims.append(dim)
        }
        guard let count = Shape.product(dims), let byteCount = Checked.multiply(count, descr.itemSize) else {
            throw bad("the array's size in bytes overflows 64 bits", shapeLiteral)
        }
        return NumpyHeader(descr: descr, fortranOrder: fortranOrder, dims: dims, elementCount: count,
                           dataOffset: dataOffset, dataByteCount: byteCount)
    }

    /// The bytes before the data of a C-order array: version 1.0, or 2.0 when
    /// the header text exceeds 1.0's 64 KB, padded so the data starts at a
    /// multiple of 64. Throws when the text would exceed `maximumHeaderLength`.
    static func encode(descr: String, dims: [Int]) throws(ModelError) -> [UInt8] {
        let shape: String
        switch dims.count {
        case 0: shape = "()"
        case 1: shape = "(\(dims[0]),)"
        default: shape = "(" + dims.map(String.init).joined(separator: ", ") + ")"
        }
        let text = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        for (major, lengthBytes, limit) in [(UInt8(1), 2, Int(UInt16.max)), (UInt8(2), 4, maximumHeaderLength)] {
            let prefix = magic.count + 2 + lengthBytes
            // The text ends with a newline; spaces before it fill up to the alignment.
            let unpadded = prefix + text.count + 1
            let padding = (alignment - unpadded % alignment) % alignment
            let length = text.count + padding + 1
            guard length <= limit else { continue }
            var bytes = magic + [major, 0]
            if major == 1 { bytes.appendLittleEndian(UInt16(length)) } else { bytes.appendLittleEndian(UInt32(length)) }
            bytes += text
            bytes += [UInt8](repeating: 0x20, count: padding)
            bytes.append(0x0A)
            return bytes
        }
        throw ModelError(.limit, "the .npy header for \(dims.count) dimensions would exceed \(maximumHeaderLength) bytes")
    }
}
