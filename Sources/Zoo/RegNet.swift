import ModelCore

/// RegNetY-400MF (Radosavovic et al., 2020) as torchvision defines it:
/// residual bottlenecks with group convolutions of 8 channels per group and
/// squeeze-excitation with ReLU.
enum RegNet {
    /// One stage: output width and blocks; every stage halves the resolution
    /// in its first block.
    struct Stage {
        var width: Int, blocks: Int
    }

    /// The stages torchvision derives for RegNetY-400MF from the design-space
    /// parameters depth 16, w₀ 48, wₐ 27.89, wₘ 2.09 (widths quantized to
    /// multiples of 8 and made divisible by the group width).
    static let stages = [
        Stage(width: 48, blocks: 1), Stage(width: 104, blocks: 3),
        Stage(width: 208, blocks: 6), Stage(width: 440, blocks: 6),
    ]
    /// Channels per group of the 3×3 convolutions.
    static let groupWidth = 8
    /// Squeeze-excitation width as a fraction of the block's input width.
    static let squeezeRatio = 0.25

    /// The layers from `input` to the class logits: a 3×3/2 stem to 32
    /// channels, the stages (`trunk_output.block1` …), global average pool,
    /// fully connected.
    static func logits(_ b: GraphBuilder, _ input: Activation, classes: Int) throws(ModelError) -> Activation {
        let stem = Scope.root.child("stem")
        var x = try b.conv(input, stem.child(index: 0), out: 32, kernel: 3, stride: 2, padding: 1, bias: false)
        x = try b.batchNorm(x, stem.child(index: 1))
        x = b.relu(x, stem.child(index: 2))

        let trunk = Scope.root.child("trunk_output")
        for (index, stage) in stages.enumerated() {
            let name = "block\(index + 1)"
            let stageScope = trunk.child(name)
            for block in 0..<stage.blocks {
                x = try residualBottleneck(b, x, stageScope.child("\(name)-\(block)"), out: stage.width,
                                           stride: block == 0 ? 2 : 1)
            }
        }

        x = b.globalAveragePool(x, Scope.root.child("avgpool"))
        x = b.flatten(x, Scope.root.child("flatten"))
        return try b.linear(x, Scope.root.child("fc"), out: classes, output: GraphBuilder.outputName)
    }

    /// `ResBottleneckBlock`: the shortcut (`proj`, a strided 1×1 conv + BN when
    /// the shape changes) plus the transform `f` (1×1 `a`, grouped 3×3 `b`,
    /// squeeze-excitation `se`, 1×1 `c` without activation), then ReLU.
    private static func residualBottleneck(_ b: GraphBuilder, _ input: Activation, _ scope: Scope, out: Int,
                                           stride: Int) throws(ModelError) -> Activation {
        var shortcut = input
        if input.channels != out || stride != 1 {
            let proj = scope.child("proj")
            shortcut = try b.conv(input, proj.child(index: 0), out: out, kernel: 1, stride: stride, bias: false)
            shortcut = try b.batchNorm(shortcut, proj.child(index: 1))
        }

        let f = scope.child("f")
        // The bottleneck multiplier is 1: the inner width is the output width.
        let (a, conv3, se, c) = (f.child("a"), f.child("b"), f.child("se"), f.child("c"))
        var x = try b.conv(input, a.child(index: 0), out: out, kernel: 1, bias: false)
        x = try b.batchNorm(x, a.child(index: 1))
        x = b.relu(x, a.child(index: 2))
        x = try b.conv(x, conv3.child(index: 0), out: out, kernel: 3, stride: stride, padding: 1,
                       groups: out / groupWidth, bias: false)
        x = try b.batchNorm(x, conv3.child(index: 1))
        x = b.relu(x, conv3.child(index: 2))
        // Python's round(), which rounds halves to even.
        let squeeze = Int((squeezeRatio * Double(input.channels)).rounded(.toNearestOrEven))
        x = try SqueezeExcitation.apply(b, x, se, squeeze: squeeze) { b, x, scope in b.relu(x, scope) }
        x = try b.conv(x, c.child(index: 0), out: out, kernel: 1, bias: false)
        x = try b.batchNorm(x, c.child(index: 1))

        x = b.sum(shortcut, x, scope)
        return b.relu(x, scope.child("activation"))
    }
}
