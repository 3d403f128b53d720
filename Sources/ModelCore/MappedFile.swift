#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory: the one place that calls `mmap`.
///
/// Pages are read from disk only when touched, so mapping a 550 MB model and
/// reading its metadata costs the metadata, not the weights.
public final class MappedFile: ByteOwner, @unchecked Sendable {
    /// The path as given by the caller.
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    /// Maps `path`. Throws a `ModelError` naming the file for anything but a
    /// readable regular file.
    public init(path: String) throws(ModelError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ModelError(.io, MappedFile.describeErrno(errno), file: path) }
        defer { close(fd) }

        var info = stat()
        if fstat(fd, &info) != 0 { throw ModelError(.io, MappedFile.describeErrno(errno), file: path) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw ModelError(.io, "is a directory, not a model file", file: path) }
        if (info.st_mode & S_IFMT) != S_IFREG { throw ModelError(.io, "is not a regular file", file: path) }

        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw ModelError(.io, "cannot map file: " + MappedFile.describeErrno(errno), file: path)
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    public var count: Int { bytes.count }

    /// A region of this file, if `offset` and `length` lie inside it.
    public func region(offset: Int, length: Int) -> ByteRegion? {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { return nil }
        return ByteRegion(owner: self, range: offset..<(offset + length))
    }

    /// The size in bytes of the regular file at `path`, or `nil` if it cannot be read.
    public static func size(of path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    static func describeErrno(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES: return "permission denied"
        case EISDIR: return "is a directory, not a model file"
        default: return String(cString: strerror(code))
        }
    }
}
