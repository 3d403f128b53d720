import Foundation

/// The file one fuzz input is written to: the readers take paths and map
/// them, so the fuzzed path is the one every command takes. It lives in
/// /dev/shm (memory) and is named by the process, so parallel fuzzers
/// (`-jobs`, `-fork`) do not share one.
public struct InputFile: Sendable {
    public let path: String

    public init(extension pathExtension: String) {
        let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        path = "\(folder)/modelinfo-fuzz-\(getpid()).\(pathExtension)"
    }

    /// Replaces the file's contents with `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(descriptor >= 0, "cannot write \(path)")
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = Foundation.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            precondition(count > 0, "cannot write \(path)")
            written += count
        }
    }
}

/// The bytes libFuzzer hands to `LLVMFuzzerTestOneInput`.
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: count > 0 ? data : nil, count: count)
}
