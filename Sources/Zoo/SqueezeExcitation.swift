import ModelCore

/// torchvision's `SqueezeExcitation` block (Hu et al., 2018), shared by
/// EfficientNet and RegNetY: global average pool, 1×1 conv down to
/// `squeeze` channels (`fc1`, with bias), an activation, 1×1 conv back up
/// (`fc2`, with bias), sigmoid, and the input scaled channel by channel.
enum SqueezeExcitation {
    /// The block at `scope`; `activation` is the middle activation (ReLU or
    /// SiLU), applied in the `activation` child scope as torchvision names it.
    static func apply(_ b: GraphBuilder, _ input: Activation, _ scope: Scope, squeeze: Int,
                      activation: (GraphBuilder, Activation, Scope) -> Activation) throws(ModelError) -> Activation {
        var scale = b.globalAveragePool(input, scope.child("avgpool"))
        scale = try b.conv(scale, scope.child("fc1"), out: squeeze, kernel: 1, bias: true)
        scale = activation(b, scale, scope.child("activation"))
        scale = try b.conv(scale, scope.child("fc2"), out: input.channels, kernel: 1, bias: true)
        scale = b.unary("Sigmoid", scale, scope.child("scale_activation"))
        // torchvision computes `scale * input`, so the scale is Mul's first operand.
        return b.binary("Mul", scale, input, scope)
    }
}
