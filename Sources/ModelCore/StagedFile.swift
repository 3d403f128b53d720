#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name next to its target, then renamed
/// over it, so that a failed write never leaves a partial file under the
/// final name. Used by every format writer.
public final class StagedFile {
    /// The final path.
    public let target: String
    /// Where the bytes go until `commit`.
    public let temporary: String
    /// The open file; -1 once finished.
    public private(set) var descriptor: Int32
    private var committed = false

    /// Linux transfers at most 0x7ffff000 bytes per write(2); asking for no
    /// more than 1 GB keeps each call within every platform's limit.
    private static let maximumWrite = 1 << 30

    deinit {
        if descriptor >= 0 { _ = close(descriptor) }
    }

    /// Creates the temporary file; permissions follow the umask like any new file.
    public init(target: String) throws(ModelError) {
        let (folder, name) = Self.split(target)
        var attempt = 0
        while true {
            let candidate = folder + "." + name + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 {
                self.target = target
                self.temporary = candidate
                self.descriptor = fd
                return
            }
            let code = errno
            attempt += 1
            if code != EEXIST || attempt == 8 {
                throw ModelError(.io, "cannot create a file in its folder: " + Self.describe(code), file: target)
            }
        }
    }

    /// The folder part of `path` (empty or ending in `/`) and the file name.
    public static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// Appends `bytes`; the error is returned rather than thrown so that this
    /// can run inside `withUnsafeBytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) -> Result<Void, ModelError> {
        guard var next = bytes.baseAddress else { return .success(()) }
        var remaining = bytes.count
        while remaining > 0 {
            let written = systemWrite(descriptor, next, min(remaining, Self.maximumWrite))
            if written < 0 {
                if errno == EINTR { continue }
                return .failure(ModelError(.io, "cannot write: " + Self.describe(errno), file: target))
            }
            // A regular file accepts nothing only when it cannot take more bytes.
            if written == 0 { return .failure(ModelError(.io, "cannot write: " + Self.describe(ENOSPC), file: target)) }
            next += written
            remaining -= written
        }
        return .success(())
    }

    /// Appends `bytes`, throwing on failure.
    public func write(_ bytes: [UInt8]) throws(ModelError) {
        try bytes.withUnsafeBytes { write($0) }.get()
    }

    /// Overwrites `bytes` at `offset` without moving the append position's end
    /// (used to fill in a header once the rest is known).
    public func overwrite(_ bytes: [UInt8], at offset: Int) throws(ModelError) {
        let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        guard written == bytes.count else {
            throw ModelError(.io, "cannot write: " + Self.describe(written < 0 ? errno : ENOSPC), file: target)
        }
    }

    /// Closes the file; a failed close can be the first sign of a failed write (NFS, quotas).
    public func finish() throws(ModelError) {
        guard descriptor >= 0 else { return }
        let fd = descriptor
        descriptor = -1
        if close(fd) != 0 {
            throw ModelError(.io, "cannot write: " + Self.describe(errno), file: target)
        }
    }

    /// Renames the complete file over the target.
    public func commit() throws(ModelError) {
        if rename(temporary, target) != 0 {
            throw ModelError(.io, "cannot replace the file: " + Self.describe(errno), file: target)
        }
        committed = true
    }

    /// Closes and deletes the temporary file after a failure; a committed file stays.
    public func discard() {
        if descriptor >= 0 {
            _ = close(descriptor)
            descriptor = -1
        }
        if !committed { _ = unlink(temporary) }
    }
}

/// write(2), named apart from `StagedFile.write`.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, bytes, count)
    #else
    return Darwin.write(fd, bytes, count)
    #endif
}
