import ModelCore

/// A value flowing through a graph under construction and its shape
/// (`[N, C, H, W]` for feature maps, `[N, features]` after `Flatten`).
struct Activation {
    var name: String
    var dims: [Int]

    var channels: Int { dims[1] }
    var height: Int { dims[2] }
    var width: Int { dims[3] }
}

/// Where a layer sits in the model: the path its ONNX node names take and the
/// dotted path its weights take (torchvision's state-dict keys).
///
/// Node names follow torch.onnx's scheme: `/layer1/layer1.0/conv1/Conv` for
/// the weights `layer1.0.conv1.weight`.
struct Scope {
    var nodePath: [String]
    var parameterPath: [String]

    /// The model itself: no path yet.
    static let root = Scope(nodePath: [], parameterPath: [])

    /// A named submodule, e.g. `conv1`.
    func child(_ name: String) -> Scope {
        child(node: name, parameter: name)
    }

    /// Item `index` of a sequential container, e.g. `layer1.0`, whose
    /// weights are `layer1.0.…`.
    func child(index: Int) -> Scope {
        child(node: "\(nodePath.last ?? "").\(index)", parameter: String(index))
    }

    /// A submodule whose node path and weight path differ, e.g. VGG's
    /// `block1/conv1_1` for the weights `features.0`.
    func child(node: String, parameter: String) -> Scope {
        Scope(nodePath: nodePath + [node], parameterPath: parameterPath + [parameter])
    }

    /// `/layer1/layer1.0/conv1/Conv`
    func nodeName(_ opType: String) -> String {
        "/" + (nodePath + [opType]).joined(separator: "/")
    }

    /// `layer1.0.conv1.weight`
    func parameterName(_ leaf: String) -> String {
        (parameterPath + [leaf]).joined(separator: ".")
    }
}

/// Builds a graph layer by layer: names nodes and weights from their scope,
/// tracks activation shapes (and refuses an input too small for the model),
/// and attaches seeded, lazily generated weights.
final class GraphBuilder {
    /// The graph input's name.
    static let inputName = "input"
    /// The graph output's name.
    static let outputName = "output"

    private let seed: UInt64
    private(set) var nodes: [Node] = []
    private(set) var initializers: [Tensor] = []
    private var names: Set<String> = []
    private var relu6Bounds: (min: String, max: String)?

    init(seed: UInt64) {
        self.seed = seed
    }

    // MARK: Layers

    /// `Conv` with a square kernel and symmetric padding; weights
    /// `[out, in/groups, k, k]`, plus a bias `[out]` when `bias` is set.
    func conv(_ x: Activation, _ scope: Scope, out: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
              groups: Int = 1, bias: Bool) throws(ModelError) -> Activation {
        let inPerGroup = x.channels / groups
        let fanIn = inPerGroup * kernel * kernel
        var inputs = [x.name, try weight(scope.parameterName("weight"), dims: [out, inPerGroup, kernel, kernel],
                                         .fanIn(fanIn))]
        if bias { inputs.append(try weight(scope.parameterName("bias"), dims: [out], .fanIn(fanIn))) }
        let dims = [x.dims[0], out,
                    try Self.slidingOutput(x.height, kernel: kernel, stride: stride, padding: padding, at: scope),
                    try Self.slidingOutput(x.width, kernel: kernel, stride: stride, padding: padding, at: scope)]
        return add(node: scope.nodeName("Conv"), "Conv", inputs: inputs, dims: dims, attributes: [
            Attribute(name: "dilations", value: .ints([1, 1])),
            Attribute(name: "group", value: .int(Int64(groups))),
            Attribute(name: "kernel_shape", value: .ints([Int64(kernel), Int64(kernel)])),
            Attribute(name: "pads", value: .ints([Int64](repeating: Int64(padding), count: 4))),
            Attribute(name: "strides", value: .ints([Int64(stride), Int64(stride)])),
        ])
    }

    /// `BatchNormalization` in inference form, with torchvision's epsilon:
    /// `BatchNorm2d`'s default 1e-5 unless the model sets another (GoogLeNet 1e-3).
    func batchNorm(_ x: Activation, _ scope: Scope, epsilon: Float = 1e-5) throws(ModelError) -> Activation {
        let c = [x.channels]
        // Scale near 1 and a positive variance keep the normalised values in range.
        let inputs = [x.name,
                      try weight(scope.parameterName("weight"), dims: c, WeightDistribution(low: 0.5, high: 1.5)),
                      try weight(scope.parameterName("bias"), dims: c, WeightDistribution(low: -0.1, high: 0.1)),
                      try weight(scope.parameterName("running_mean"), dims: c, WeightDistribution(low: -0.1, high: 0.1)),
                      try weight(scope.parameterName("running_var"), dims: c, WeightDistribution(low: 0.5, high: 1.5))]
        return add(node: scope.nodeName("BatchNormalization"), "BatchNormalization", inputs: inputs, dims: x.dims,
                   attributes: [Attribute(name: "epsilon", value: .float(epsilon))])
    }

    /// `Relu`.
    func relu(_ x: Activation, _ scope: Scope) -> Activation {
        add(node: scope.nodeName("Relu"), "Relu", inputs: [x.name], dims: x.dims)
    }

    /// ReLU6 as `Clip(x, 0, 6)`; the bounds are two shared `Constant` nodes
    /// (not initializers, so that they do not count as parameters).
    func relu6(_ x: Activation, _ scope: Scope) throws(ModelError) -> Activation {
        let bounds: (min: String, max: String)
        if let made = relu6Bounds {
            bounds = made
        } else {
            bounds = try makeRelu6Bounds()
        }
        return add(node: scope.nodeName("Clip"), "Clip", inputs: [x.name, bounds.min, bounds.max], dims: x.dims)
    }

    /// `MaxPool` with a square window and symmetric padding; `ceilMode`
    /// rounds the output size up, as `MaxPool2d(ceil_mode=True)` does.
    func maxPool(_ x: Activation, _ scope: Scope, kernel: Int, stride: Int,
                 padding: Int = 0, ceilMode: Bool = false) throws(ModelError) -> Activation {
        let dims = [x.dims[0], x.channels,
                    try Self.slidingOutput(x.height, kernel: kernel, stride: stride, padding: padding,
                                           ceilMode: ceilMode, at: scope),
                    try Self.slidingOutput(x.width, kernel: kernel, stride: stride, padding: padding,
                                           ceilMode: ceilMode, at: scope)]
        return add(node: scope.nodeName("MaxPool"), "MaxPool", inputs: [x.name], dims: dims, attributes: [
            Attribute(name: "ceil_mode", value: .int(ceilMode ? 1 : 0)),
            Attribute(name: "dilations", value: .ints([1, 1])),
            Attribute(name: "kernel_shape", value: .ints([Int64(kernel), Int64(kernel)])),
            Attribute(name: "pads", value: .ints([Int64](repeating: Int64(padding), count: 4))),
            Attribute(name: "strides", value: .ints([Int64(stride), Int64(stride)])),
        ])
    }

    /// torchvision's `AdaptiveAvgPool2d((size, size))`: nothing when the map
    /// already has that size, an `AveragePool` with window = stride when its
    /// sides are multiples of `size`. Other sizes would need unequal windows,
    /// which ONNX pooling cannot express, and are refused.
    func adaptiveAveragePool(_ x: Activation, _ scope: Scope, size: Int) throws(ModelError) -> Activation {
        if x.height == size && x.width == size { return x }
        guard x.height % size == 0, x.width % size == 0 else {
            throw ModelError(.usage, "the feature map before '\(scope.nodeName("AveragePool"))' is \(x.height)×\(x.width), "
                             + "not a multiple of \(size)×\(size); choose an image size that makes it one")
        }
        let (kh, kw) = (x.height / size, x.width / size)
        return add(node: scope.nodeName("AveragePool"), "AveragePool", inputs: [x.name],
                   dims: [x.dims[0], x.channels, size, size], attributes: [
                       Attribute(name: "ceil_mode", value: .int(0)),
                       Attribute(name: "count_include_pad", value: .int(0)),
                       Attribute(name: "kernel_shape", value: .ints([Int64(kh), Int64(kw)])),
                       Attribute(name: "pads", value: .ints([0, 0, 0, 0])),
                       Attribute(name: "strides", value: .ints([Int64(kh), Int64(kw)])),
                   ])
    }

    /// `GlobalAveragePool`: `[N, C, H, W]` → `[N, C, 1, 1]`.
    func globalAveragePool(_ x: Activation, _ scope: Scope) -> Activation {
        add(node: scope.nodeName("GlobalAveragePool"), "GlobalAveragePool", inputs: [x.name],
            dims: [x.dims[0], x.channels, 1, 1])
    }

    /// `Flatten(axis=1)`: `[N, …]` → `[N, product of the rest]`; `output`
    /// names its result (the graph output when it ends the model).
    func flatten(_ x: Activation, _ scope: Scope, output: String? = nil) -> Activation {
        add(node: scope.nodeName("Flatten"), "Flatten", inputs: [x.name],
            dims: [x.dims[0], x.dims.dropFirst().reduce(1, *)], output: output,
            attributes: [Attribute(name: "axis", value: .int(1))])
    }

    /// A fully connected layer as `Gemm(x, W, b, transB=1)` with `W` `[out, in]`;
    /// `output` names its result (the graph output for the last layer).
    func linear(_ x: Activation, _ scope: Scope, out: Int, output: String? = nil) throws(ModelError) -> Activation {
        let fanIn = x.dims[1]
        let inputs = [x.name,
                      try weight(scope.parameterName("weight"), dims: [out, fanIn], .fanIn(fanIn)),
                      try weight(scope.parameterName("bias"), dims: [out], .fanIn(fanIn))]
        return add(node: scope.nodeName("Gemm"), "Gemm", inputs: inputs, dims: [x.dims[0], out], output: output,
                   attributes: [Attribute(name: "alpha", value: .float(1)), Attribute(name: "beta", value: .float(1)),
                                Attribute(name: "transB", value: .int(1))])
    }

    /// The element-wise sum `a + b` (a residual connection).
    func sum(_ a: Activation, _ b: Activation, _ scope: Scope) -> Activation {
        precondition(a.dims == b.dims, "residual branches of different shapes at \(scope.nodeName("Add"))")
        return add(node: scope.nodeName("Add"), "Add", inputs: [a.name, b.name], dims: a.dims)
    }

    /// An operator of one input whose output has the input's shape
    /// (`Sigmoid`, `Erf`, `Softmax`…). `node` replaces the op type as the
    /// node name's last part, for repeats in one scope (torch.onnx writes `Mul_1`).
    func unary(_ opType: String, _ x: Activation, _ scope: Scope, node: String? = nil,
               attributes: [Attribute] = []) -> Activation {
        add(node: scope.nodeName(node ?? opType), opType, inputs: [x.name], dims: x.dims, attributes: attributes)
    }

    /// An element-wise operator of two inputs with numpy broadcasting (`Add`,
    /// `Mul`, `Div`…); `node` as for `unary`.
    func binary(_ opType: String, _ a: Activation, _ b: Activation, _ scope: Scope,
                node: String? = nil) -> Activation {
        let rank = max(a.dims.count, b.dims.count)
        let left = [Int](repeating: 1, count: rank - a.dims.count) + a.dims
        let right = [Int](repeating: 1, count: rank - b.dims.count) + b.dims
        let dims = zip(left, right).map { l, r in
            precondition(l == r || l == 1 || r == 1, "\(a.dims) and \(b.dims) do not broadcast at \(scope.nodeName(opType))")
            return l == 1 ? r : l
        }
        return add(node: scope.nodeName(node ?? opType), opType, inputs: [a.name, b.name], dims: dims)
    }

    /// `Concat` along `axis`; the other dimensions must agree.
    func concat(_ xs: [Activation], axis: Int, _ scope: Scope, node: String? = nil) -> Activation {
        var dims = xs[0].dims
        dims[axis] = xs.reduce(0) { $0 + $1.dims[axis] }
        return add(node: scope.nodeName(node ?? "Concat"), "Concat", inputs: xs.map(\.name), dims: dims,
                   attributes: [Attribute(name: "axis", value: .int(Int64(axis)))])
    }

    /// The last part of the next free node name for `opType` in `scope`:
    /// `Mul`, then `Mul_1`, `Mul_2`…, as torch.onnx numbers repeats.
    func numbered(_ opType: String, _ scope: Scope) -> String {
        var part = opType
        var count = 0
        while names.contains(scope.nodeName(part)) {
            count += 1
            part = "\(opType)_\(count)"
        }
        return part
    }

    /// A `Constant` node holding a float32 scalar (GELU's √2, an attention
    /// scale); a one-element tensor in arithmetic is not a parameter.
    func scalar(_ value: Float, _ scope: Scope) throws(ModelError) -> Activation {
        let bytes = OwnedBytes(count: 4) { $0.storeBytes(of: value.bitPattern.littleEndian, as: UInt32.self) }
        return try constant(.float, dims: [], bytes, scope)
    }

    /// A `Constant` node holding int64 `values` of shape `dims` (a shape for
    /// `Reshape`, an index for `Gather`): integers are never parameters.
    func integers(_ values: [Int64], dims: [Int], _ scope: Scope) throws(ModelError) -> Activation {
        let bytes = OwnedBytes(count: values.count * 8) { buffer in
            for (index, value) in values.enumerated() {
                buffer.storeBytes(of: value.littleEndian, toByteOffset: index * 8, as: Int64.self)
            }
        }
        return try constant(.int64, dims: dims, bytes, scope)
    }

    /// `Reshape` to the fixed `dims`, given as a constant shape tensor (an
    /// exporter that knows every size writes them as constants).
    func reshape(_ x: Activation, to dims: [Int], _ scope: Scope) throws(ModelError) -> Activation {
        precondition(dims.reduce(1, *) == x.dims.reduce(1, *), "\(x.dims) cannot become \(dims) at \(scope.nodeName("Reshape"))")
        let shape = try integers(dims.map { Int64($0) }, dims: [dims.count], scope)
        return add(node: scope.nodeName(numbered("Reshape", scope)), "Reshape", inputs: [x.name, shape.name], dims: dims,
                   attributes: [Attribute(name: "allowzero", value: .int(0))])
    }

    /// `Transpose`: output axis `i` is input axis `perm[i]`.
    func transpose(_ x: Activation, perm: [Int], _ scope: Scope) -> Activation {
        add(node: scope.nodeName(numbered("Transpose", scope)), "Transpose", inputs: [x.name], dims: perm.map { x.dims[$0] },
            attributes: [Attribute(name: "perm", value: .ints(perm.map { Int64($0) }))])
    }

    /// `nn.LayerNorm` over the last axis as `LayerNormalization`, with a
    /// learned scale and shift of that axis' size.
    func layerNorm(_ x: Activation, _ scope: Scope, epsilon: Float) throws(ModelError) -> Activation {
        let c = [x.dims[x.dims.count - 1]]
        let inputs = [x.name,
                      try weight(scope.parameterName("weight"), dims: c, WeightDistribution(low: 0.5, high: 1.5)),
                      try weight(scope.parameterName("bias"), dims: c, WeightDistribution(low: -0.1, high: 0.1))]
        return add(node: scope.nodeName("LayerNormalization"), "LayerNormalization", inputs: inputs, dims: x.dims,
                   attributes: [Attribute(name: "axis", value: .int(-1)), Attribute(name: "epsilon", value: .float(epsilon))])
    }

    /// `nn.Linear` on a tensor of any rank as torch.onnx writes it when the
    /// input is not 2-D: `MatMul` by the weight, then `Add(bias, ·)`. The
    /// exporter folds the transpose of the weight into the tensor it stores,
    /// so the weight is `[in, out]` under its state-dict name.
    func matMulLinear(_ x: Activation, _ scope: Scope, out: Int) throws(ModelError) -> Activation {
        let fanIn = x.dims[x.dims.count - 1]
        let w = try weight(scope.parameterName("weight"), dims: [fanIn, out], .fanIn(fanIn))
        let product = add(node: scope.nodeName(numbered("MatMul", scope)), "MatMul", inputs: [x.name, w],
                          dims: x.dims.dropLast() + [out])
        let bias = Activation(name: try weight(scope.parameterName("bias"), dims: [out], .fanIn(fanIn)), dims: [out])
        return binary("Add", bias, product, scope, node: numbered("Add", scope))
    }

    /// Exact GELU as torch.onnx writes it at opset 17:
    /// `Div(x, √2) → Erf → Add(·, 1) → Mul(x, ·) → Mul(·, 0.5)`.
    func gelu(_ x: Activation, _ scope: Scope) throws(ModelError) -> Activation {
        var y = binary("Div", x, try scalar(Float(2).squareRoot(), scope), scope, node: numbered("Div", scope))
        y = unary("Erf", y, scope, node: numbered("Erf", scope))
        y = binary("Add", y, try scalar(1, scope), scope, node: numbered("Add", scope))
        y = binary("Mul", x, y, scope, node: numbered("Mul", scope))
        return binary("Mul", y, try scalar(0.5, scope), scope, node: numbered("Mul", scope))
    }

    /// The next `Constant` node of `scope`; its value tensor takes the output's name.
    private func constant(_ dtype: DType, dims: [Int], _ bytes: OwnedBytes,
                          _ scope: Scope) throws(ModelError) -> Activation {
        let name = scope.nodeName(numbered("Constant", scope))
        let value = try Tensor(name: name + "_output_0", dtype: dtype, dims: dims, storage: .bytes(ByteRegion(owner: bytes)))
        return add(node: name, "Constant", inputs: [], dims: dims, attributes: [Attribute(name: "value", value: .tensor(value))])
    }

    /// SiLU (x · sigmoid(x)) as torch.onnx writes it: `Sigmoid` then `Mul(x, ·)`,
    /// both in the activation's scope.
    func silu(_ x: Activation, _ scope: Scope) -> Activation {
        binary("Mul", x, unary("Sigmoid", x, scope), scope)
    }

    // MARK: Parts

    /// Output length of a convolution or pooling window along one axis
    /// (dilation 1), by the analysis' own rule (`Window`): floor rounding,
    /// or ceiling rounding with `ceilMode`. Throws when the input is too
    /// small to give any output.
    static func slidingOutput(_ length: Int, kernel: Int, stride: Int, padding: Int, ceilMode: Bool = false,
                              at scope: Scope) throws(ModelError) -> Int {
        let window = Window(kernel: [kernel], strides: [stride], pads: [padding, padding], ceilMode: ceilMode)
        guard let output = window.outputSpatial([.known(length)])[0].value, output > 0 else {
            throw ModelError(.usage, "the input is too small: at '/\(scope.nodePath.joined(separator: "/"))' the feature map is "
                             + "\(length) px across, too few for its \(kernel)×\(kernel) window with padding \(padding)")
        }
        return output
    }

    /// A float32 initializer `name` of shape `dims`, drawn lazily from `distribution`.
    func weight(_ name: String, dims: [Int], _ distribution: WeightDistribution) throws(ModelError) -> String {
        claim(name)
        let count = dims.reduce(1, *)
        let owner = GeneratedWeights(elementCount: count, key: WeightStream.key(seed: seed, name: name),
                                     distribution: distribution)
        initializers.append(try Tensor(name: name, dtype: .float, dims: dims, storage: .bytes(ByteRegion(owner: owner))))
        return name
    }

    /// Appends a node named `name` with one output, `output` or `<name>_output_0`.
    func add(node name: String, _ opType: String, inputs: [String], dims: [Int], output: String? = nil,
                     attributes: [Attribute] = []) -> Activation {
        let result = output ?? name + "_output_0"
        add(node: name, opType, inputs: inputs, outputs: [result], attributes: attributes)
        return Activation(name: result, dims: dims)
    }

    /// Appends a node named `name` with the outputs `outputs`, whose shapes
    /// the builder does not track: the language models leave their symbolic
    /// shapes to the analysis' shape inference.
    func add(node name: String, _ opType: String, inputs: [String], outputs: [String],
             attributes: [Attribute] = []) {
        claim(name)
        for output in outputs { claim(output) }
        nodes.append(Node(name: name, opType: opType, inputs: inputs, outputs: outputs, attributes: attributes))
    }

    private func makeRelu6Bounds() throws(ModelError) -> (min: String, max: String) {
        let scope = Scope.root.child("relu6")
        func constant(_ leaf: String, _ value: Float) throws(ModelError) -> String {
            let name = scope.parameterName(leaf)
            let scalar = OwnedBytes(count: 4) { $0.storeBytes(of: value.bitPattern.littleEndian, as: UInt32.self) }
            let tensor = try Tensor(name: name, dtype: .float, dims: [], storage: .bytes(ByteRegion(owner: scalar)))
            return add(node: scope.child(leaf).nodeName("Constant"), "Constant", inputs: [], dims: [], output: name,
                       attributes: [Attribute(name: "value", value: .tensor(tensor))]).name
        }
        let bounds = (min: try constant("min", 0), max: try constant("max", 6))
        relu6Bounds = bounds
        return bounds
    }

    /// Records a node, value or initializer name; a repeat is a bug in an architecture.
    func claim(_ name: String) {
        precondition(names.insert(name).inserted, "zoo graph reuses the name '\(name)'")
    }
}
