/// Which schema serves which operator.
///
/// Keys are op types of the default ONNX domain (`Conv`), or `domain.OpType`
/// for other domains. A node whose key is missing is an unknown operator:
/// analysis lists it instead of counting it as zero.
public enum OpRegistry {
    /// Every operator the project knows, by family, and the schema that
    /// serves it. Adding an operator is one line here, its schema in
    /// `Ops/<Family>/<Op>.swift` and its kernel in
    /// `Engine/Kernels/<Family>/<Op>+Kernel.swift` (docs/ARCHITECTURE.md).
    static let registrations: [(key: String, schema: any OpSchema.Type)] = {
        var list: [(key: String, schema: any OpSchema.Type)] = []
        func add(_ type: any OpSchema.Type, _ keys: [String]) {
            for key in keys.sorted() { list.append((key, type)) }
        }
        // Convolution and linear algebra
        add(Conv.self, ["Conv"])
        add(ConvTranspose.self, ["ConvTranspose"])
        add(DeformConv.self, ["DeformConv"])
        add(Col2Im.self, ["Col2Im"])
        add(Gemm.self, ["Gemm"])
        add(MatMul.self, ["MatMul"])
        add(Einsum.self, ["Einsum"])
        add(Determinant.self, ["Det"])
        // Pooling
        add(WindowPool.self, ["MaxPool", "AveragePool", "LpPool"])
        add(GlobalPool.self, ["GlobalMaxPool", "GlobalAveragePool", "GlobalLpPool"])
        add(MaxUnpool.self, ["MaxUnpool"])
        add(RegionPooling.self, ["RoiAlign", "MaxRoiPool"])
        // Normalization
        add(BatchNormalization.self, ["BatchNormalization"])
        add(StatisticsNormalization.self, ["InstanceNormalization", "LayerNormalization", "GroupNormalization",
                                           "RMSNormalization", "MeanVarianceNormalization", "LpNormalization"])
        add(LRN.self, ["LRN"])
        // Elementwise
        add(Unary.self, Array(Elementwise.unaryFLOPs.keys))
        add(Binary.self, Array(Elementwise.binaryFLOPs.keys))
        add(Variadic.self, ["Sum", "Mean", "Max", "Min"])
        add(RowOperator.self, ["Softmax", "LogSoftmax", "Hardmax"])
        add(Where.self, ["Where"])
        add(Cast.self, ["Cast", "CastLike"])
        add(BitCast.self, ["BitCast"])
        // Reduction
        add(Reduce.self, ReduceKind.allCases.map(\.rawValue))
        add(ArgExtreme.self, ["ArgMax", "ArgMin"])
        add(TopK.self, ["TopK"])
        add(Cumulative.self, ["CumSum", "CumProd"])
        // Shape
        add(Reshape.self, ["Reshape"])
        add(Flatten.self, ["Flatten"])
        add(Squeeze.self, ["Squeeze"])
        add(Unsqueeze.self, ["Unsqueeze"])
        add(Transpose.self, ["Transpose"])
        add(Concat.self, ["Concat"])
        add(Split.self, ["Split"])
        add(Slice.self, ["Slice"])
        add(Expand.self, ["Expand"])
        add(Tile.self, ["Tile"])
        add(Pad.self, ["Pad"])
        add(CenterCropPad.self, ["CenterCropPad"])
        add(ShapeOf.self, ["Shape"])
        add(SizeOf.self, ["Size"])
        add(DepthToSpace.self, ["DepthToSpace"])
        add(SpaceToDepth.self, ["SpaceToDepth"])
        // Indexing
        add(Gather.self, ["Gather"])
        add(GatherElements.self, ["GatherElements"])
        add(GatherND.self, ["GatherND"])
        add(ScatterElements.self, ["Scatter", "ScatterElements"])
        add(ScatterND.self, ["ScatterND"])
        add(TensorScatter.self, ["TensorScatter"])
        add(NonZero.self, ["NonZero"])
        add(Compress.self, ["Compress"])
        add(Unique.self, ["Unique"])
        add(OneHot.self, ["OneHot"])
        add(Trilu.self, ["Trilu"])
        add(ReverseSequence.self, ["ReverseSequence"])
        // Generators
        add(Constant.self, ["Constant"])
        add(ConstantOfShape.self, ["ConstantOfShape"])
        add(NumberRange.self, ["Range"])
        add(EyeLike.self, ["EyeLike"])
        add(RandomGenerator.self, ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                   "Bernoulli", "Multinomial"])
        // Image
        add(Resize.self, ["Resize"])
        add(Upsample.self, ["Upsample"])
        add(GridSample.self, ["GridSample"])
        add(AffineGrid.self, ["AffineGrid"])
        add(NonMaxSuppression.self, ["NonMaxSuppression"])
        add(ImageDecoder.self, ["ImageDecoder"])
        // Sequence models
        add(Recurrent.self, ["RNN", "GRU", "LSTM"])
        add(Attention.self, ["Attention", "ai.onnx.preview.FlexAttention"])
        add(LinearAttention.self, ["LinearAttention"])
        add(RotaryEmbedding.self, ["RotaryEmbedding"])
        add(CausalConvWithState.self, ["CausalConvWithState"])
        // Control flow, sequences and optionals
        add(If.self, ["If"])
        add(Loop.self, ["Loop"])
        add(Scan.self, ["Scan"])
        add(SequenceMap.self, ["SequenceMap"])
        add(SequenceOperator.self, ["SequenceEmpty", "SequenceConstruct", "SequenceInsert", "SequenceErase", "SequenceAt",
                                    "SequenceLength", "SplitToSequence", "ConcatFromSequence"])
        add(OptionalOperator.self, ["Optional", "OptionalHasElement", "OptionalGetElement"])
        // Quantization
        add(Quantize.self, ["QuantizeLinear", "DequantizeLinear"])
        add(DynamicQuantize.self, ["DynamicQuantizeLinear"])
        add(QuantizedMatMul.self, ["MatMulInteger", "QLinearMatMul"])
        add(QuantizedConv.self, ["ConvInteger", "QLinearConv"])
        // Signal processing
        add(FourierTransform.self, ["DFT"])
        add(ShortTimeFourierTransform.self, ["STFT"])
        add(WindowFunction.self, ["HannWindow", "HammingWindow", "BlackmanWindow"])
        add(MelWeightMatrix.self, ["MelWeightMatrix"])
        // onnxruntime's contrib operators, as its transformer optimizer writes them
        add(ContribActivation.self, ["com.microsoft.Gelu", "com.microsoft.FastGelu", "com.microsoft.BiasGelu",
                                     "com.microsoft.QuickGelu", "com.microsoft.BiasAdd"])
        add(SkipLayerNormalization.self, ["com.microsoft.SkipLayerNormalization", "com.microsoft.SkipSimplifiedLayerNormalization",
                                          "SimplifiedLayerNormalization", "com.microsoft.SimplifiedLayerNormalization"])
        add(FusedMatMul.self, ["com.microsoft.FusedMatMul"])
        add(ProjectedAttention.self, ["com.microsoft.Attention"])
        add(MultiHeadAttention.self, ["com.microsoft.MultiHeadAttention"])
        add(GroupQueryAttention.self, ["com.microsoft.GroupQueryAttention"])
        add(ContribRotaryEmbedding.self, ["com.microsoft.RotaryEmbedding"])
        add(MatMulNBits.self, ["com.microsoft.MatMulNBits"])
        add(DynamicQuantizeMatMul.self, ["com.microsoft.DynamicQuantizeMatMul"])
        // Text, training and classical ML
        add(TfIdfVectorizer.self, ["TfIdfVectorizer"])
        add(StringOperator.self, ["StringNormalizer", "RegexFullMatch", "StringConcat", "StringSplit"])
        add(ClassificationLoss.self, ["NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"])
        add(Optimizer.self, ["ai.onnx.preview.training.Momentum", "ai.onnx.preview.training.Adam",
                             "ai.onnx.preview.training.Adagrad"])
        add(ArrayFeatureExtractor.self, ["ai.onnx.ml.ArrayFeatureExtractor"])
        add(Binarizer.self, ["ai.onnx.ml.Binarizer"])
        add(LabelEncoder.self, ["ai.onnx.ml.LabelEncoder"])
        add(TreeEnsemble.self, ["ai.onnx.ml.TreeEnsemble"])
        return list
    }()

    static let table: [String: any OpSchema.Type] = Dictionary(registrations.map { ($0.key, $0.schema) }) { first, _ in first }

    /// Operator keys registered more than once (the first wins); empty when the table is consistent.
    public static var duplicateRegistrations: [String] {
        var seen: Set<String> = []
        return registrations.map(\.key).filter { !seen.insert($0).inserted }
    }

    /// The registry key of a node: its op type, prefixed by a non-default domain.
    public static func key(domain: String, opType: String) -> String {
        domain.isEmpty || domain == "ai.onnx" ? opType : "\(domain).\(opType)"
    }

    /// Whether the project knows how to analyse this operator.
    public static func knows(domain: String, opType: String) -> Bool {
        table[key(domain: domain, opType: opType)] != nil
    }

    /// The schema for `node`, with its attributes read; `nil` for an unknown operator.
    public static func schema(for node: Node, opset: Int) throws(ModelError) -> (any OpSchema)? {
        guard let type = table[key(domain: node.domain, opType: node.opType)] else { return nil }
        return try type.init(node: node, opset: opset)
    }

    /// Every operator key the registry knows, sorted.
    public static var knownOperators: [String] { table.keys.sorted() }
}
