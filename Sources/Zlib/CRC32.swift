internal import CChecksum

/// zlib's CRC-32 (the polynomial of ZIP, PNG and gzip), the one checksum of
/// the `.swm` sections and tensors and of ZIP members. CChecksum computes it
/// by carry-less-multiplication folding where the CPU has that, and by zlib's
/// `crc32_z` otherwise, with the same results either way.
public enum CRC32 {
    /// The CRC of `bytes`.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    /// The CRC of `bytes`.
    public static func of(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { of($0) }
    }

    /// Continues `crc` (0 to start) over `bytes`, as zlib's `crc32_z` would:
    /// `update(update(0, a), b)` is the CRC of `a` followed by `b`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return swm_crc32(crc, base, bytes.count)
    }
}
