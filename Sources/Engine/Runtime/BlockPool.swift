#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Large blocks for activations and kernel scratch, carved out of regions
/// mapped from the system and reused across steps and runs.
///
/// A request takes the smallest free block that holds it and leaves the rest
/// of that block free, and a returned block merges with its free neighbours
/// in the same region. So the memory the widest layers mapped serves, in
/// pieces, the narrower activations and the scratch of later layers at once:
/// a request maps a new region only when no free piece holds it, and the
/// mapped total stays near the largest set of simultaneously live blocks.
/// (Handing out whole blocks best-fit kept a 12 MiB block behind every small
/// activation, and VGG-16's Winograd scratch then mapped 28 MiB of its own.)
final class BlockPool: @unchecked Sendable {
    static let shared = BlockPool()

    /// Blocks start and end on page boundaries.
    static let granule = 4096
    /// A free remainder smaller than this stays with the block taken.
    static let smallestPiece = 64 * 1024

    private struct Piece {
        var start: Int
        var length: Int
        var end: Int { start + length }
    }

    private struct State {
        /// Mapped regions by start address, and their lengths.
        var regions: [Int: Int] = [:]
        /// Free pieces, sorted by address.
        var free: [Piece] = []
        var freeBytes = 0
    }

    private let state = Mutex(State())
    /// Beyond this many free bytes, a region that becomes wholly free goes back to the system.
    private let retainLimit = 1 << 30

    /// A block of at least `size` bytes, or nil when the system refuses the memory.
    func take(_ size: Int) -> (base: UnsafeMutableRawPointer, capacity: Int)? {
        guard size > 0, size <= Int.max - Self.granule else { return nil }
        let length = (size + Self.granule - 1) / Self.granule * Self.granule
        let reused = state.withLock { state -> (Int, Int)? in
            var best: Int?
            for (i, piece) in state.free.enumerated() where piece.length >= length {
                if best.map({ piece.length < state.free[$0].length }) ?? true { best = i }
            }
            guard let best else { return nil }
            let piece = state.free[best]
            if piece.length - length >= Self.smallestPiece {
                state.free[best] = Piece(start: piece.start + length, length: piece.length - length)
                state.freeBytes -= length
                return (piece.start, length)
            }
            state.free.remove(at: best)
            state.freeBytes -= piece.length
            return (piece.start, piece.length)
        }
        if let (start, capacity) = reused { return (UnsafeMutableRawPointer(bitPattern: start)!, capacity) }
        guard let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else { return nil }
        state.withLock { $0.regions[Int(bitPattern: mapped)] = length }
        return (mapped, length)
    }

    /// Returns a block taken from this pool.
    func give(_ base: UnsafeMutableRawPointer, capacity: Int) {
        let unmapped = state.withLock { state -> Piece? in
            var piece = Piece(start: Int(bitPattern: base), length: capacity)
            // The first free piece after this one.
            var low = 0, high = state.free.count
            while low < high {
                let middle = (low + high) / 2
                if state.free[middle].start < piece.start { low = middle + 1 } else { high = middle }
            }
            var index = low
            state.freeBytes += capacity
            // Neighbours merge only within a region: regions can be adjacent in
            // the address space, but each is unmapped whole.
            if index < state.free.count, state.free[index].start == piece.end, state.regions[piece.end] == nil {
                piece.length += state.free[index].length
                state.free.remove(at: index)
            }
            if index > 0, state.free[index - 1].end == piece.start, state.regions[piece.start] == nil {
                index -= 1
                piece = Piece(start: state.free[index].start, length: state.free[index].length + piece.length)
                state.free.remove(at: index)
            }
            if state.freeBytes > retainLimit, state.regions[piece.start] == piece.length {
                state.regions[piece.start] = nil
                state.freeBytes -= piece.length
                return piece
            }
            state.free.insert(piece, at: index)
            return nil
        }
        if let unmapped { munmap(UnsafeMutableRawPointer(bitPattern: unmapped.start), unmapped.length) }
    }
}
