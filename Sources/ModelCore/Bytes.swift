#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Something that keeps a block of bytes alive at a fixed address: a mapped
/// file or an owned allocation. Tensors hold regions of one.
public protocol ByteOwner: AnyObject, Sendable {
    /// The whole block. Valid for as long as the owner is alive.
    var bytes: UnsafeRawBufferPointer { get }
    /// The block's size, known without touching `bytes`, so that an owner
    /// that makes its bytes lazily (generated weights) is not forced to.
    var byteCount: Int { get }
    /// Checks and readies the bytes before first use: a no-op for most
    /// owners; one that verifies a checksum or decodes its data on first use
    /// (a `.swm` tensor) throws here when the data is damaged, which `bytes`
    /// itself cannot.
    func prepare() throws(ModelError)
}

extension ByteOwner {
    /// The size of `bytes`, for owners whose bytes exist from the start.
    public var byteCount: Int { bytes.count }

    /// Nothing to check, for owners whose bytes are ready from the start.
    public func prepare() throws(ModelError) {}
}

/// Bytes allocated and owned by the process (decoded typed fields, tensors
/// built in memory).
public final class OwnedBytes: ByteOwner, @unchecked Sendable {
    // Written only through `initialize` before the owner is shared.
    private let storage: UnsafeMutableRawBufferPointer

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(storage) }

    /// Allocates `count` bytes, 64-byte aligned, filled by `initialize`.
    public init(count: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        do {
            try initialize(storage)
        } catch {
            storage.deallocate()
            throw error
        }
    }

    /// Copies `source`.
    public convenience init(copying source: UnsafeRawBufferPointer) {
        self.init(count: source.count) { target in
            if let base = source.baseAddress, source.count > 0 {
                target.baseAddress!.copyMemory(from: base, byteCount: source.count)
            }
        }
    }

    /// Copies `source`.
    public convenience init(_ source: [UInt8]) {
        self.init(count: source.count) { target in
            _ = target.initializeMemory(as: UInt8.self, from: source)
        }
    }

    deinit { storage.deallocate() }
}

/// A contiguous range of bytes inside a `ByteOwner`; copying a region never
/// copies the bytes.
public struct ByteRegion: Sendable {
    public let owner: any ByteOwner
    public let range: Range<Int>

    /// The part `range` of `owner`; the caller has checked that it lies inside.
    public init(owner: any ByteOwner, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= owner.byteCount, "region outside its owner")
        self.owner = owner
        self.range = range
    }

    /// All of `owner`.
    public init(owner: any ByteOwner) {
        self.init(owner: owner, range: 0..<owner.byteCount)
    }

    /// A region owning a copy of `bytes`.
    public init(copying bytes: [UInt8]) {
        self.init(owner: OwnedBytes(bytes))
    }

    public var count: Int { range.count }

    /// Checks and readies the owner's bytes (see `ByteOwner.prepare`).
    public func prepare() throws(ModelError) {
        try owner.prepare()
    }

    /// True when the bytes live in a memory-mapped file (zero-copy).
    public var isMapped: Bool { owner is MappedFile }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: owner.bytes[range]))
    }

    /// A copy of the bytes as an array.
    public var array: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Byte-wise equality of contents.
    public func contentsEqual(_ other: ByteRegion) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in
            other.withUnsafeBytes { b in
                guard count > 0 else { return true }
                return memcmp(a.baseAddress!, b.baseAddress!, count) == 0
            }
        }
    }
}
