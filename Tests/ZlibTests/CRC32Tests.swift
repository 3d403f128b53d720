import CChecksum
import CZlib
import Zlib
import Testing

/// `CRC32` (and each of CChecksum's methods) gives zlib's `crc32_z` results
/// for every length, alignment, starting value and split.
@Suite struct CRC32Tests {
    /// A byte-at-a-time CRC-32 (reflected 0xEDB88320, init and xorout
    /// 0xFFFFFFFF), independent of zlib and CChecksum.
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func reference(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }

    static func zlib(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
        return UInt32(truncatingIfNeeded: crc32_z(UInt(crc), base, bytes.count))
    }

    /// Deterministic bytes (SplitMix64).
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = Generator(state: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        var i = 0
        while i < count {
            let word = generator.next()
            for j in 0..<min(8, count - i) { bytes[i + j] = UInt8(truncatingIfNeeded: word >> (8 * j)) }
            i += 8
        }
        return bytes
    }

    /// The methods this machine can run (zlib always; the folding ones on x86-64 with the instructions).
    static let methods: [swm_crc32_method] = [SWM_CRC32_ZLIB, SWM_CRC32_PCLMUL, SWM_CRC32_VPCLMUL]
        .filter { swm_crc32_method_available($0) != 0 }

    @Test func knownVectors() {
        #expect(CRC32.of(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.of([UInt8]()) == 0)
        #expect(CRC32.of(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.update(0x1234_5678, UnsafeRawBufferPointer(start: nil, count: 0)) == 0x1234_5678)
        // 4 KB of zeros and of 0xFF, long enough for every folding method.
        #expect(CRC32.of([UInt8](repeating: 0, count: 4096)) == 0xC71C_0011)
        #expect(CRC32.of([UInt8](repeating: 0xFF, count: 4096)) == 0xF154_670A)
        // The reference itself.
        Array("123456789".utf8).withUnsafeBytes { #expect(Self.reference(0, $0) == 0xCBF4_3926) }
        [UInt8](repeating: 0, count: 4096).withUnsafeBytes { #expect(Self.reference(0, $0) == 0xC71C_0011) }
    }

    /// Every length 0...300 at every start offset 0...15, from 0 and from a
    /// nonzero CRC, against zlib and the byte-at-a-time reference.
    @Test func everyShortLengthAndOffset() {
        let buffer = Self.randomBytes(300 + 16, seed: 1)
        buffer.withUnsafeBytes { all in
            var failures = 0
            for offset in 0...15 {
                for length in 0...300 {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                    for start: UInt32 in [0, 0xDEAD_BEEF] {
                        let expected = Self.zlib(start, bytes)
                        if CRC32.update(start, bytes) != expected || Self.reference(start, bytes) != expected {
                            failures += 1
                        }
                    }
                }
            }
            #expect(failures == 0)
        }
    }

    /// Each method on its own, for every length up to 1,100 (past the wide
    /// path's 512-byte threshold and several 256-byte steps) at every offset
    /// within a 64-byte line.
    @Test(arguments: methods.map(\.rawValue))
    func methodMatchesZlib(_ method: UInt32) {
        let buffer = Self.randomBytes(1100 + 64, seed: 2)
        buffer.withUnsafeBytes { all in
            var failures = 0
            for offset in 0..<64 {
                for length in 0...1100 {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                    let start = UInt32(truncatingIfNeeded: length &* 2_654_435_761)
                    let got = swm_crc32_using(swm_crc32_method(rawValue: method), start, bytes.baseAddress, bytes.count)
                    if got != Self.zlib(start, bytes) { failures += 1 }
                }
            }
            #expect(failures == 0)
        }
    }

    /// Random lengths up to 6 MB at random offsets and starting values, by
    /// `CRC32` and by each method; the first few also against the reference.
    @Test func randomLongLengths() {
        let buffer = Self.randomBytes(6 << 20, seed: 3)
        var generator = Generator(state: 4)
        buffer.withUnsafeBytes { all in
            for trial in 0..<24 {
                let length = Int.random(in: 0...(all.count - 64), using: &generator)
                let offset = Int.random(in: 0..<64, using: &generator)
                let start = UInt32.random(in: .min ... .max, using: &generator)
                let bytes = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                let expected = Self.zlib(start, bytes)
                #expect(CRC32.update(start, bytes) == expected, "length \(length), offset \(offset)")
                for method in Self.methods {
                    #expect(swm_crc32_using(method, start, bytes.baseAddress, bytes.count) == expected,
                            "method \(method.rawValue), length \(length), offset \(offset)")
                }
                if trial < 3 { #expect(Self.reference(start, bytes) == expected) }
            }
            #expect(CRC32.of(all) == Self.zlib(0, all))
        }
    }

    /// crc(a ‖ b) == update(update(0, a), b) for every split of 2,000 bytes
    /// and for many splits of 3 MB, including around the 16-, 64- and
    /// 256-byte steps.
    @Test func continuation() {
        let short = Self.randomBytes(2000, seed: 5)
        short.withUnsafeBytes { all in
            let whole = Self.zlib(0, all)
            #expect(CRC32.of(all) == whole)
            var failures = 0
            for split in 0...all.count {
                let a = UnsafeRawBufferPointer(rebasing: all[..<split])
                let b = UnsafeRawBufferPointer(rebasing: all[split...])
                if CRC32.update(CRC32.of(a), b) != whole { failures += 1 }
            }
            #expect(failures == 0)
        }

        let long = Self.randomBytes(3 << 20, seed: 6)
        var generator = Generator(state: 7)
        long.withUnsafeBytes { all in
            let whole = Self.zlib(0, all)
            var splits = [0, 1, 15, 16, 17, 63, 64, 65, 255, 256, 257, 511, 512, 513, 4096, 65537]
            splits += splits.map { all.count - $0 }
            splits += (0..<40).map { _ in Int.random(in: 0...all.count, using: &generator) }
            for split in splits {
                let a = UnsafeRawBufferPointer(rebasing: all[..<split])
                let b = UnsafeRawBufferPointer(rebasing: all[split...])
                #expect(CRC32.update(CRC32.of(a), b) == whole, "split at \(split)")
                // Three pieces: a, then b in two.
                let middle = split + (all.count - split) / 3
                let b1 = UnsafeRawBufferPointer(rebasing: all[split..<middle])
                let b2 = UnsafeRawBufferPointer(rebasing: all[middle...])
                #expect(CRC32.update(CRC32.update(CRC32.of(a), b1), b2) == whole, "splits at \(split), \(middle)")
            }
        }
    }
}
