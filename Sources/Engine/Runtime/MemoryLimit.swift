#if canImport(Glibc)
import Glibc
#endif
import ModelCore
import Synchronization

/// The engine's memory limit: the bytes of all tensors the engine has
/// allocated and not yet freed may not pass `limit`.
///
/// Every tensor size comes from a file, directly or through shape
/// arithmetic, so it is a request, not a fact: a request that would pass the
/// limit fails with a `.limit` error before any memory is touched, instead
/// of the process aborting when the system refuses. One process-wide count,
/// because allocation sites (kernels, inputs, constant folding) do not carry
/// a context; the command line sets the limit once (`--max-memory`).
public enum EngineMemory {
    /// Three quarters of the machine's memory, and at most half of an
    /// address-space or data limit (`ulimit -v`, `ulimit -d`): such a limit
    /// counts every mapping (the model file, thread stacks, kernel scratch
    /// and index tables outside the count), so the system refuses memory
    /// long before the machine runs out. 8 GiB when nothing is known.
    public static let defaultLimit: Int = {
        var available = [Int]()
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0, pageSize > 0, case let (bytes, false) = pages.multipliedReportingOverflow(by: pageSize) {
            available.append(bytes / 4 * 3)
        }
        #if canImport(Glibc)
        for resource in [RLIMIT_AS, RLIMIT_DATA] {
            var limit = rlimit()
            if getrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max {  // RLIM_INFINITY
                available.append(Int(clamping: limit.rlim_cur) / 2)
            }
        }
        #endif
        return available.min() ?? 8 << 30
    }()

    private static let limitBytes = Atomic<Int>(defaultLimit)
    private static let liveBytes = Atomic<Int>(0)

    /// The most bytes of tensors alive at once.
    public static var limit: Int {
        get { limitBytes.load(ordering: .relaxed) }
        set { limitBytes.store(max(0, newValue), ordering: .relaxed) }
    }

    /// Bytes of engine-allocated tensors alive now.
    public static var live: Int { liveBytes.load(ordering: .relaxed) }

    /// Counts `bytes` as alive, or throws when that would pass the limit.
    static func reserve(_ bytes: Int) throws(ModelError) {
        let limit = self.limit
        guard bytes <= limit else {
            throw ModelError(.limit, "a tensor of \(bytes) bytes is larger than the engine's memory limit of \(limit) bytes "
                             + "(--max-memory sets it)")
        }
        let (before, _) = liveBytes.add(bytes, ordering: .relaxed)
        guard before <= limit - bytes else {
            liveBytes.subtract(bytes, ordering: .relaxed)
            throw ModelError(.limit, "a tensor of \(bytes) bytes would bring the engine's live tensors to \(before + bytes) bytes, "
                             + "above its memory limit of \(limit) bytes (--max-memory sets it)")
        }
    }

    /// Counts `bytes` as freed.
    static func release(_ bytes: Int) {
        liveBytes.subtract(bytes, ordering: .relaxed)
    }
}
