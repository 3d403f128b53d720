#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// DepthToSpace and SpaceToDepth: channel blocks moved to and from
/// `blocksize`² spatial positions, in DCR or CRD order; a reshape, a
/// transpose and a reshape.
struct BlockRearrangeKernel: Kernel {
    let blockSize: Int
    let columnRowDepth: Bool
    let toDepth: Bool

    init(blockSize: Int, columnRowDepth: Bool, toDepth: Bool) {
        self.blockSize = blockSize
        self.columnRowDepth = columnRowDepth
        self.toDepth = toDepth
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        guard x.shape.count == 4 else { throw ModelError(.invalidGraph, "the input must be 4-D, it has rank \(x.shape.count)") }
        let (n, c, h, w, b) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], blockSize)
        if toDepth {
            guard h % b == 0, w % b == 0 else { throw ModelError(.invalidGraph, "\(h)×\(w) does not divide into blocks of \(b)") }
            let dims = [n, c, h / b, b, w / b, b]
            let perm = columnRowDepth ? [0, 1, 3, 5, 2, 4] : [0, 3, 5, 1, 2, 4]
            return [try ShapeKernels.permuted(x, dims: dims, perm: perm, context: context).reshaped([n, c * b * b, h / b, w / b])]
        }
        guard c % (b * b) == 0 else { throw ModelError(.invalidGraph, "\(c) channels do not divide into blocks of \(b * b)") }
        let depth = c / (b * b)
        let dims = columnRowDepth ? [n, depth, b, b, h, w] : [n, b, b, depth, h, w]
        let perm = columnRowDepth ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2]
        return [try ShapeKernels.permuted(x, dims: dims, perm: perm, context: context).reshaped([n, depth, h * b, w * b])]
    }
}

extension DepthToSpace: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        BlockRearrangeKernel(blockSize: blockSize, columnRowDepth: columnRowDepth, toDepth: false)
    }
}

extension SpaceToDepth: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        BlockRearrangeKernel(blockSize: blockSize, columnRowDepth: columnRowDepth, toDepth: true)
    }
}
