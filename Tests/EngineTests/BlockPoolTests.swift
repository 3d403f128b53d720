@testable import Engine
import Testing

/// The activation pool hands out pieces of its free blocks and merges
/// returned pieces with their free neighbours, so that the memory of a wide
/// layer serves several narrower values at once and is whole again later.
@Suite struct BlockPoolTests {
    static let mib = 1 << 20

    @Test func aFreeBlockServesSeveralSmallerRequestsAndMergesBack() throws {
        let pool = BlockPool()
        let region = try #require(pool.take(Self.mib))
        #expect(region.capacity == Self.mib)
        pool.give(region.base, capacity: region.capacity)

        let first = try #require(pool.take(Self.mib / 4)), second = try #require(pool.take(Self.mib / 2))
        #expect(first.base == region.base && first.capacity == Self.mib / 4)
        #expect(second.base == region.base + Self.mib / 4 && second.capacity == Self.mib / 2)
        // Returned out of order, the pieces merge with the free remainder into the whole region.
        pool.give(second.base, capacity: second.capacity)
        pool.give(first.base, capacity: first.capacity)
        let whole = try #require(pool.take(Self.mib))
        #expect(whole.base == region.base && whole.capacity == Self.mib)
        pool.give(whole.base, capacity: whole.capacity)
    }

    @Test func aRemainderTooSmallToServeStaysWithTheBlockTaken() throws {
        let pool = BlockPool()
        let region = try #require(pool.take(Self.mib))
        pool.give(region.base, capacity: region.capacity)
        // 4 KiB short of the block: the remainder is below the smallest piece kept.
        let taken = try #require(pool.take(Self.mib - 4096))
        #expect(taken.base == region.base && taken.capacity == Self.mib)
        pool.give(taken.base, capacity: taken.capacity)
    }

    @Test func aRequestLargerThanEveryFreeBlockMapsANewRegion() throws {
        let pool = BlockPool()
        let small = try #require(pool.take(Self.mib / 2))
        pool.give(small.base, capacity: small.capacity)
        let large = try #require(pool.take(Self.mib))
        #expect(large.base != small.base && large.capacity == Self.mib)
        // The freed half-MiB region still serves a request that fits it.
        let again = try #require(pool.take(Self.mib / 2))
        #expect(again.base == small.base)
        pool.give(large.base, capacity: large.capacity)
        pool.give(again.base, capacity: again.capacity)
    }
}
