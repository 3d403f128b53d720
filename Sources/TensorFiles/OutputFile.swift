import ModelCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name in its target's folder and renamed
/// over the target only once complete, so that a failed write never leaves a
/// partial file under the final name.
final class OutputFile {
    let target: String
    private let temporary: String
    private var descriptor: Int32
    private var committed = false
    /// Bytes appended so far, which is where the next append goes.
    private(set) var position = 0

    /// Creates the temporary file; permissions follow the umask like any new file.
    init(target: String) throws(ModelError) {
        self.target = target
        let slash = target.lastIndex(of: "/")
        let folder = slash.map { String(target[...$0]) } ?? ""
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        var attempts = 0
        while true {
            let candidate = folder + "." + name + ".partial-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 {
                temporary = candidate
                descriptor = fd
                return
            }
            let code = errno
            attempts += 1
            // A name collision is retried; anything else (no folder, no permission) is final.
            if code != EEXIST || attempts == 8 {
                throw ModelError(.io, "cannot create a file in its folder: " + String(cString: strerror(code)), file: target)
            }
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed { unlink(temporary) }
    }

    /// Appends `bytes`, continuing after short writes and interruptions.
    func append(_ bytes: UnsafeRawBufferPointer) throws(ModelError) {
        try write(bytes, at: position)
        position += bytes.count
    }

    func append(_ bytes: [UInt8]) throws(ModelError) {
        try bytes.withBytes { (buffer) throws(ModelError) in try append(buffer) }
    }

    /// Replaces bytes already written at `offset` (a header completed after its data).
    func overwrite(_ bytes: [UInt8], at offset: Int) throws(ModelError) {
        try bytes.withBytes { (buffer) throws(ModelError) in try write(buffer, at: offset) }
    }

    /// Closes the file and renames it over the target.
    func commit() throws(ModelError) {
        let fd = descriptor
        descriptor = -1
        // A failed close can be the first sign of a failed write (NFS, quotas).
        if close(fd) != 0 { throw failure(errno) }
        if rename(temporary, target) != 0 {
            throw ModelError(.io, "cannot replace the file: " + String(cString: strerror(errno)), file: target)
        }
        committed = true
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(ModelError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, base + done, min(bytes.count - done, 1 << 30), off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw failure(errno)
            }
            // No progress on a regular file means the disk is full.
            if written == 0 { throw failure(ENOSPC) }
            done += written
        }
    }

    private func failure(_ code: Int32) -> ModelError {
        ModelError(.io, "cannot write: " + String(cString: strerror(code)), file: target)
    }
}
