import Synchronization
import ModelCore
import Zlib

/// The bytes of one `.swm` tensor, checked on first use.
///
/// `prepare()` verifies the stored bytes' CRC-32 once and, for an encoded or
/// compressed tensor, decodes them into owned memory; it throws when either
/// fails. A raw, uncompressed tensor is handed out straight from the mapped
/// file and never copied. Reading `bytes` without `prepare()` (as analysis
/// does for small constant tensors) skips the check; if decoding then fails,
/// the bytes read as zeros and the next `prepare()` throws.
final class StoredTensorBytes: ByteOwner, @unchecked Sendable {
    let file: MappedFile
    let entry: TensorEntry
    var byteCount: Int { entry.decodedLength }

    private let lock = Mutex<Void>(())
    // Guarded by `lock`: the outcome of `prepare`, and of decoding.
    private var checked: Result<Void, ModelError>?
    private var decoding: Result<Void, ModelError>?
    private var decoded: UnsafeMutableRawBufferPointer?

    init(file: MappedFile, entry: TensorEntry) {
        self.file = file
        self.entry = entry
    }

    deinit { decoded?.deallocate() }

    /// The stored bytes, inside the file (the table was checked against its size).
    var stored: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[entry.offset..<(entry.offset + entry.storedLength)])
    }

    private var isDirect: Bool { entry.encoding == .raw && entry.compression == .none }

    var bytes: UnsafeRawBufferPointer {
        if isDirect { return stored }
        return lock.withLock { _ in
            let memory = decodedLocked()
            return UnsafeRawBufferPointer(rebasing: memory[0..<entry.decodedLength])
        }
    }

    func prepare() throws(ModelError) {
        let outcome = lock.withLock { _ -> Result<Void, ModelError> in
            if let checked { return checked }
            let result = verifyLocked()
            checked = result
            return result
        }
        try outcome.get()
    }

    private func verifyLocked() -> Result<Void, ModelError> {
        let actual = CRC32.of(stored)
        guard actual == entry.crc else {
            return .failure(ModelError(.malformed, "checksum mismatch (stored \(hex32(entry.crc)), computed \(hex32(actual))): the file is damaged",
                                       file: file.path, byteOffset: entry.offset, location: "tensor '\(entry.name)'"))
        }
        if isDirect { return .success(()) }
        _ = decodedLocked()
        return decoding!
    }

    /// The decoded bytes, decoding them the first time; after a failure they are zeros.
    private func decodedLocked() -> UnsafeMutableRawBufferPointer {
        if let decoded { return decoded }
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(entry.decodedLength, 1), alignment: 64)
        decoded = memory
        do {
            try TensorCodec.decode(stored, entry: entry, into: UnsafeMutableRawBufferPointer(rebasing: memory[0..<entry.decodedLength]))
            decoding = .success(())
        } catch {
            memory.initializeMemory(as: UInt8.self, repeating: 0)
            var located = error
            located.file = file.path
            located.byteOffset = entry.offset
            located.location = "tensor '\(entry.name)'"
            decoding = .failure(located)
        }
        return memory
    }
}
