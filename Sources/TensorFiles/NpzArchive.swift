import ModelCore
import Zlib

/// NumPy `.npz`: a ZIP archive whose members are `.npy` files named after their arrays.
enum NpzArchive {
    /// Deflate's best case is 258 bytes from 2 bits: no valid member inflates
    /// to more than this many times its compressed size (plus a little).
    static let maximumDeflateRatio = 1032

    /// The archive's tensors in directory order, each named after its member without `.npy`.
    ///
    /// Stored members stay views into `file` when their data allows; deflated
    /// ones are inflated into exactly the size their `.npy` header promises.
    static func read(_ file: MappedFile) throws(ModelError) -> [Tensor] {
        let members = try ZipReader.members(file.bytes)
        var tensors: [Tensor] = []
        var names = Set<String>()
        for member in members {
            func refuse(_ message: String, at offset: Int) -> ModelError {
                ModelError(.malformed, message, byteOffset: offset, location: "member '\(member.name)'")
            }
            guard member.name.hasSuffix(".npy") else {
                throw refuse("not a .npy array (every member of an .npz is NAME.npy)", at: member.headerOffset)
            }
            let name = String(member.name.dropLast(4))
            guard names.insert(name).inserted else { throw refuse("a second member with this name", at: member.headerOffset) }
            tensors.append(member.method == 0 ? try stored(member, in: file, refuse: refuse)
                                              : try deflated(member, in: file, refuse: refuse))
        }
        return tensors
    }

    /// Writes `tensors` as members `NAME.npy`, stored or deflated.
    static func write(_ tensors: [Tensor], to output: OutputFile, compressed: Bool, zip64Threshold: Int) throws(ModelError) {
        let zip = ZipWriter(file: output, compressed: compressed, zip64Threshold: zip64Threshold)
        var names = Set<String>()
        for tensor in tensors {
            guard names.insert(tensor.name).inserted else {
                throw ModelError(.malformed, "two tensors are named '\(tensor.name)', but .npz members need distinct names")
            }
            // Python's zipfile cuts a member name at NUL, so numpy would see another name.
            guard !tensor.name.utf8.contains(0) else {
                throw ModelError(.malformed, "tensor name '\(tensor.name)' contains NUL, which .npz member names cannot hold")
            }
            let (header, data) = try NumpyArray.encode(tensor)
            try zip.add(name: tensor.name + ".npy", pieces: [ByteRegion(copying: header), data])
        }
        try zip.finish()
    }

    private static func stored(_ member: ZipMember, in file: MappedFile,
                               refuse: (String, Int) -> ModelError) throws(ModelError) -> Tensor {
        guard let region = file.region(offset: member.dataOffset, length: member.compressedSize) else {
            throw refuse("data past the end of the file", member.dataOffset)
        }
        // np.load checks it too. It reads every page of the member, which using the tensor does anyway.
        let crc = region.withBytes { CRC32.update(0, $0) }
        guard crc == member.crc32 else { throw refuse("damaged: CRC-32 mismatch", member.dataOffset) }
        do {
            return try NumpyArray.tensor(from: region, name: String(member.name.dropLast(4)))
        } catch {
            // Offsets inside a stored member are offsets in the file, shifted.
            throw refuse(error.message, member.dataOffset + (error.byteOffset ?? 0))
        }
    }

    /// Inflates a member after checking, from its `.npy` header alone, that
    /// the size it declares is what the array needs.
    private static func deflated(_ member: ZipMember, in file: MappedFile,
                                 refuse: (String, Int) -> ModelError) throws(ModelError) -> Tensor {
        let at = member.dataOffset
        guard let compressed = ByteReader(bytes: file.bytes).slice(member.dataOffset, member.compressedSize) else {
            throw refuse("data past the end of the file", at)
        }
        let ceiling = Checked.multiply(member.compressedSize, maximumDeflateRatio).flatMap { Checked.add($0, 1024) }
        guard let ceiling, member.uncompressedSize <= ceiling else {
            throw refuse("declares \(member.uncompressedSize) bytes from \(member.compressedSize) compressed bytes, "
                         + "more than deflate can produce", at)
        }
        func insideMember(_ error: ModelError) -> ModelError {
            let position = error.byteOffset.map { " (byte \($0) once inflated)" } ?? ""
            return refuse(error.message + position, at)
        }

        // The header is read from a small inflated prefix before the whole member is allocated.
        let prefix = try inflatePrefix(compressed, count: min(12, member.uncompressedSize), refuse: refuse, at: at)
        let dataOffset: Int
        do {
            dataOffset = try prefix.withBytes { (bytes) throws(ModelError) in try NumpyHeader.dataOffset(bytes) }
        } catch {
            throw insideMember(error)
        }
        guard dataOffset <= member.uncompressedSize else {
            throw refuse("its .npy header (\(dataOffset) bytes) is longer than the \(member.uncompressedSize) bytes "
                         + "the member declares", at)
        }
        let headerBytes = try inflatePrefix(compressed, count: dataOffset, refuse: refuse, at: at)
        let header: NumpyHeader
        do {
            header = try headerBytes.withBytes { (bytes) throws(ModelError) in try NumpyHeader.parse(bytes) }
        } catch {
            throw insideMember(error)
        }
        guard let expected = Checked.add(dataOffset, header.dataByteCount), expected == member.uncompressedSize else {
            throw refuse("declares \(member.uncompressedSize) bytes uncompressed, but its .npy header describes "
                         + "\(dataOffset) + \(header.dataByteCount) bytes", at)
        }

        var failure: Inflater.Failure?
        var produced = 0
        let owned = OwnedBytes(count: member.uncompressedSize) { output in
            do throws(Inflater.Failure) {
                produced = try Inflater.inflate(compressed, into: output, format: .raw, extent: .whole).written
            } catch {
                failure = error
            }
        }
        if let failure { throw refuse(describe(failure, declared: member.uncompressedSize), at) }
        guard produced == member.uncompressedSize else {
            throw refuse("inflates to \(produced) bytes, fewer than the \(member.uncompressedSize) it declares", at)
        }
        let region = ByteRegion(owner: owned)
        guard region.withBytes({ CRC32.update(0, $0) }) == member.crc32 else {
            throw refuse("damaged: CRC-32 mismatch", at)
        }
        do {
            return try NumpyArray.tensor(from: region, name: String(member.name.dropLast(4)))
        } catch {
            throw insideMember(error)
        }
    }

    /// The first `count` inflated bytes (fewer if the stream ends first).
    private static func inflatePrefix(_ compressed: UnsafeRawBufferPointer, count: Int,
                                      refuse: (String, Int) -> ModelError, at: Int) throws(ModelError) -> [UInt8] {
        var failure: Inflater.Failure?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(Inflater.Failure) {
                initialized = try Inflater.inflate(compressed, into: UnsafeMutableRawBufferPointer(buffer), format: .raw,
                                                   extent: .prefix).written
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw refuse(describe(failure, declared: count), at) }
        return bytes
    }

    private static func describe(_ failure: Inflater.Failure, declared: Int) -> String {
        switch failure {
        case .corrupt(let reason): return "damaged deflate data: \(reason)"
        case .inputEnded: return "truncated: the deflate data ends before the member's end"
        case .outputOverflow: return "inflates to more than the \(declared) bytes it declares"
        case .outOfMemory: return "out of memory while inflating"
        }
    }
}
