#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Concat: the inputs joined along `axis`.
struct ConcatKernel: Kernel {
    let axis: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var parts: [EngineTensor] = []
        for i in inputs.indices { parts.append(try requiredInput(inputs, i, "input \(i)")) }
        guard let first = parts.first else { throw ModelError(.invalidGraph, "Concat has no inputs") }
        try ShapeKernels.sameType(parts, "Concat")
        let rank = first.shape.count
        let a = try ShapeKernels.axis(axis, rank: rank)
        var dims = first.shape
        dims[a] = 0
        for part in parts {
            guard part.shape.count == rank,
                  part.shape.indices.allSatisfy({ $0 == a || part.shape[$0] == first.shape[$0] }) else {
                throw ModelError(.invalidGraph, "cannot join shapes \(first.shape) and \(part.shape) along axis \(a)")
            }
            dims[a] += part.shape[a]
        }
        var output = try ElementOutput(dtype: first.dtype, shape: dims)
        let outer = dims[..<a].reduce(1, *), inner = dims[(a + 1)...].reduce(1, *)
        if output.width > 0 && output.count * output.width >= Self.parallelBytes && outer * parts.count <= Self.parallelBlocks {
            Self.copyInParallel(parts, axis: a, outer: outer, inner: inner, into: output, context)
            return [output.tensor]
        }
        var offset = 0
        for o in 0..<outer {
            for part in parts {
                let block = part.shape[a] * inner
                output.copy(from: part, o * block, to: offset, count: block)
                offset += block
            }
        }
        return [output.tensor]
    }

    /// Outputs of at least this many bytes are copied by all the threads: a
    /// thread alone copied SqueezeNet's and DenseNet's channel joins (up to
    /// 3 MB at 54×54) at about 25 GB/s.
    static let parallelBytes = 1 << 18
    /// ...when they are made of few blocks (a channel join of a few images),
    /// which the threads look up in a list.
    static let parallelBlocks = 4096

    /// The output in contiguous ranges of bytes, one per thread, each filled
    /// from whichever blocks of the parts it covers.
    private static func copyInParallel(_ parts: [EngineTensor], axis a: Int, outer: Int, inner: Int, into output: ElementOutput,
                                       _ context: ExecutionContext) {
        let width = output.width, total = output.count * width, target = output.buffer.base
        // The blocks in the output's order: where each starts in the output, its source, its bytes.
        var blocks: [(start: Int, source: UnsafeRawPointer, bytes: Int)] = []
        var start = 0
        for o in 0..<outer {
            for part in parts {
                let bytes = part.shape[a] * inner * width
                blocks.append((start, UnsafeRawPointer(part.buffer.base + o * bytes), bytes))
                start += bytes
            }
        }
        withExtendedLifetime(parts) {
            context.parallelRanges(total, grain: parallelBytes / 4) { range in
                // The first block that ends after the range starts.
                var i = blocks.partitionPoint { $0.start + $0.bytes <= range.lowerBound }
                while i < blocks.count, blocks[i].start < range.upperBound {
                    let block = blocks[i]
                    let from = max(block.start, range.lowerBound), to = min(block.start + block.bytes, range.upperBound)
                    (target + from).copyMemory(from: block.source + (from - block.start), byteCount: to - from)
                    i += 1
                }
            }
        }
    }
}

extension Array {
    /// The index of the first element for which `isBefore` is false, in an
    /// array ordered so that all those for which it is true come first.
    fileprivate func partitionPoint(_ isBefore: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if isBefore(self[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension Concat: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { ConcatKernel(axis: axis) }
}
