import Dispatch
import Synchronization
import ModelCore

/// How a weight tensor's float32 values are drawn: uniformly from `low` to `high`.
struct WeightDistribution: Sendable {
    var low: Float
    var high: Float

    /// ±1/√fanIn, the bound PyTorch's default initialisation uses for conv
    /// and linear weights and biases; it keeps activations finite when run.
    static func fanIn(_ fanIn: Int) -> WeightDistribution {
        let bound = Float(1 / Double(fanIn).squareRoot())
        return WeightDistribution(low: -bound, high: bound)
    }
}

/// float32 weights drawn from a seeded stream, generated on first access to
/// `bytes` (then kept), so that a model used only for analysis never makes them.
///
/// Values depend only on the stream key and the element index (see
/// `WeightStream`), never on when or in which order tensors are generated.
final class GeneratedWeights: ByteOwner, @unchecked Sendable {
    let byteCount: Int
    private let key: UInt64
    private let distribution: WeightDistribution
    private let lock = Mutex<Void>(())
    // Guarded by `lock`; set once, then never changed until deinit.
    private var storage: UnsafeMutableRawBufferPointer?

    /// `elementCount` floats from the stream `key`.
    init(elementCount: Int, key: UInt64, distribution: WeightDistribution) {
        self.byteCount = elementCount * MemoryLayout<UInt32>.size
        self.key = key
        self.distribution = distribution
    }

    deinit { storage?.deallocate() }

    /// Whether `bytes` has been read (and the weights made) yet.
    var isGenerated: Bool {
        lock.withLock { _ in storage != nil }
    }

    var bytes: UnsafeRawBufferPointer {
        lock.withLock { _ in
            if let storage { return UnsafeRawBufferPointer(storage) }
            let made = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 64)
            WeightStream.fill(made.bindMemory(to: UInt32.self), key: key, distribution: distribution)
            storage = made
            return UnsafeRawBufferPointer(made)
        }
    }
}

/// The counter-based generator behind `GeneratedWeights`.
///
/// Element `i` of the stream with key `k` is `low + (h >> 8)·(high − low)/2²⁴`
/// where `h = lowbias32(i + k₀) ⊕ k₁` (`k₀`, `k₁` the key's low and high 32
/// bits; lowbias32 is Chris Wellons' 32-bit integer hash, `i` taken modulo
/// 2³²). Any element can be made on its own, so a tensor filled in pieces on
/// several cores has the same bytes as one filled in one go.
enum WeightStream {
    /// SplitMix64's output function, a bijective 64-bit mix: here to make keys.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The stream key of the tensor `name` in a model built with `seed`.
    static func key(seed: UInt64, name: String) -> UInt64 {
        // FNV-1a over the name's UTF-8 bytes, then mixed with the seed.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return mix(mix(seed) ^ hash)
    }

    /// Elements per piece when a large tensor is filled on several cores (4 MB:
    /// large enough to amortise scheduling, small enough to balance the cores).
    static let chunkElements = 1 << 20

    /// Fills `words` with stream `key`, in pieces on all cores when it is large.
    static func fill(_ words: UnsafeMutableBufferPointer<UInt32>, key: UInt64, distribution: WeightDistribution) {
        let chunks = (words.count + chunkElements - 1) / chunkElements
        guard chunks > 1 else {
            fill(words, key: key, firstElement: 0, distribution: distribution)
            return
        }
        // Each iteration writes its own disjoint piece, and all finish before this returns.
        nonisolated(unsafe) let target = words
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * chunkElements
            let piece = UnsafeMutableBufferPointer(rebasing: target[start..<min(start + chunkElements, target.count)])
            fill(piece, key: key, firstElement: start, distribution: distribution)
        }
    }

    /// Fills `words` with elements `firstElement…` of stream `key`, as the
    /// little-endian bit patterns of their floats. Integer hashing, an exact
    /// conversion of 24 bits and one rounded multiply and add per element
    /// (IEEE 754, never fused) make the bytes the same on every machine.
    static func fill(_ words: UnsafeMutableBufferPointer<UInt32>, key: UInt64, firstElement: Int,
                     distribution: WeightDistribution) {
        let low = distribution.low
        let scale = (distribution.high - distribution.low) * 0x1p-24
        let flip = UInt32(truncatingIfNeeded: key >> 32)
        // A plain loop: the compiler vectorises it, and unlike SIMD types it stays fast in debug builds.
        var counter = UInt32(truncatingIfNeeded: key) &+ UInt32(truncatingIfNeeded: firstElement)
        for index in words.indices {
            var h = counter
            h ^= h >> 16
            h &*= 0x7FEB_352D
            h ^= h >> 15
            h &*= 0x846C_A68B
            h ^= h >> 16
            h ^= flip
            // h >> 8 < 2²⁴: exact as Int32 and as Float.
            words[index] = (low + Float(Int32(truncatingIfNeeded: h >> 8)) * scale).bitPattern.littleEndian
            counter &+= 1
        }
    }
}
