import ModelCore
import Testing

@Suite struct MiscellaneousTests {
    private func schema(_ op: String, domain: String = "", inputs: [String], outputs: [String] = ["y"],
                        attributes: [String: AttributeValue] = [:], opset: Int = 22) throws -> any OpSchema {
        let node = Node(name: "n", opType: op, domain: domain, inputs: inputs, outputs: outputs,
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        return try #require(try OpRegistry.schema(for: node, opset: opset))
    }

    private func fact(_ dims: [Int], _ dtype: DType = .float) -> ValueFact {
        ValueFact(dtype: dtype, shape: Shape(dims))
    }

    private func scalar(_ value: Int, _ dtype: DType = .int64) -> ValueFact {
        ValueFact(dtype: dtype, value: KnownValue(scalar: .known(value)))
    }

    private func text(_ s: String) -> AttributeValue { .string(Array(s.utf8)) }

    /// Infers and counts in one go.
    private func run(_ schema: any OpSchema, _ inputs: [ValueFact?]) throws -> (outputs: [ValueFact], cost: OpCost?) {
        let outputs = try schema.infer(inputs)
        return (outputs, schema.cost(inputs, outputs))
    }

    @Test func quantizeTakesTheZeroPointsType() throws {
        let quantize = try schema("QuantizeLinear", inputs: ["x", "scale", "zero"])
        let (outputs, cost) = try run(quantize, [fact([2, 3]), fact([]), fact([], .int8)])
        #expect(outputs == [fact([2, 3], .int8)])
        #expect(cost == OpCost(macs: 0, flops: 12))
        #expect(try quantize.infer([fact([2, 3]), fact([]), nil]) == [fact([2, 3], .uint8)])
        let typed = try schema("QuantizeLinear", inputs: ["x", "scale"], attributes: ["output_dtype": .int(21)], opset: 21)
        #expect(try typed.infer([fact([4]), fact([])]) == [fact([4], .uint4)])
        let dequantize = try schema("DequantizeLinear", inputs: ["x", "scale"])
        #expect(try dequantize.infer([fact([4], .int8), fact([], .float16)]) == [fact([4], .float16)])
        #expect(throws: ModelError.self) { try schema("QuantizeLinear", inputs: ["x", "s"], attributes: ["output_dtype": .int(99)]) }
        let perAxis = try schema("DequantizeLinear", inputs: ["x", "scale"], attributes: ["axis": .int(3)])
        #expect(throws: ModelError.self) { try perAxis.infer([fact([2, 3], .int8), fact([3])]) }
    }

    @Test func dynamicQuantizationGivesScalarParameters() throws {
        let (outputs, cost) = try run(try schema("DynamicQuantizeLinear", inputs: ["x"], outputs: ["y", "s", "z"]), [fact([3, 4])])
        #expect(outputs == [fact([3, 4], .uint8), fact([], .float), fact([], .uint8)])
        #expect(cost == OpCost(macs: 0, flops: 48))
    }

    @Test func integerMatMulsCountLikeMatMul() throws {
        let (outputs, cost) = try run(try schema("MatMulInteger", inputs: ["a", "b"]), [fact([4, 3], .uint8), fact([3, 5], .uint8)])
        #expect(outputs == [fact([4, 5], .int32)])
        #expect(cost == OpCost(macs: 60, flops: 120))
        let qlinear = try schema("QLinearMatMul", inputs: ["a", "as", "az", "b", "bs", "bz", "ys", "yz"])
        let inputs: [ValueFact?] = [fact([4, 3], .int8), fact([]), fact([], .int8), fact([3, 5], .int8), fact([]), fact([], .int8),
                                    fact([]), fact([], .uint8)]
        let (q, qCost) = try run(qlinear, inputs)
        #expect(q == [fact([4, 5], .uint8)])
        // 60 MACs, and requantising 20 outputs at 2 FLOPs.
        #expect(qCost == OpCost(macs: 60, flops: 160))
        #expect(throws: ModelError.self) { try schema("QLinearMatMul", inputs: ["a", "as", "az", "b"]) }
        #expect(throws: ModelError.self) { try qlinear.infer([fact([4, 3]), nil, nil, fact([4, 5])]) }
    }

    @Test func integerConvolutionsCountLikeConv() throws {
        let conv = try schema("ConvInteger", inputs: ["x", "w"], attributes: ["pads": .ints([1, 1, 1, 1])])
        let (outputs, cost) = try run(conv, [fact([1, 1, 3, 3], .uint8), fact([1, 1, 2, 2], .uint8)])
        #expect(outputs == [fact([1, 1, 4, 4], .int32)])
        #expect(cost == OpCost(macs: 64, flops: 128))
        let qlinear = try schema("QLinearConv", inputs: ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"])
        let inputs: [ValueFact?] = [fact([1, 2, 4, 4], .uint8), fact([]), fact([], .uint8), fact([3, 2, 3, 3], .uint8), fact([]),
                                    fact([], .uint8), fact([]), fact([], .uint8), fact([3], .int32)]
        let (q, qCost) = try run(qlinear, inputs)
        #expect(q == [fact([1, 3, 2, 2], .uint8)])
        // 12 outputs · 18 MACs; bias 1 and requantisation 2 FLOPs per output.
        #expect(qCost == OpCost(macs: 216, flops: 432 + 12 + 24))
        #expect(throws: ModelError.self) { try schema("ConvInteger", inputs: ["x", "w"], attributes: ["group": .int(0)]) }
    }

    @Test func deformableConvolutionAddsInterpolation() throws {
        let deform = try schema("DeformConv", inputs: ["x", "w", "offset"])
        let (outputs, cost) = try run(deform, [fact([1, 2, 4, 4]), fact([3, 2, 2, 2]), fact([1, 8, 3, 3])])
        #expect(outputs == [fact([1, 3, 3, 3])])
        // Conv: 27 outputs · 8 = 216 MACs; 1 · 2 channels · 9 positions · 4 taps = 72 samples at 7 FLOPs.
        #expect(cost == OpCost(macs: 216, flops: 432 + 504))
        #expect(!deform.holdsParameters(input: 2))
        #expect(throws: ModelError.self) { try schema("DeformConv", inputs: ["x", "w", "offset"], attributes: ["offset_group": .int(0)]) }
    }

    @Test func detectionOutputsDependOnTheData() throws {
        let nms = try schema("NonMaxSuppression", inputs: ["boxes", "scores"])
        let (outputs, cost) = try run(nms, [fact([1, 6, 4]), fact([1, 1, 6])])
        #expect(outputs == [ValueFact(dtype: .int64, shape: Shape([.unknown, .known(3)]))])
        #expect(cost == nil)
        #expect(throws: ModelError.self) { try nms.infer([fact([1, 6, 5]), nil]) }
        #expect(throws: ModelError.self) { try schema("NonMaxSuppression", inputs: ["b", "s"], attributes: ["center_point_box": .int(2)]) }
    }

    @Test func regionPoolingGivesOneMapPerRegion() throws {
        let align = try schema("RoiAlign", inputs: ["x", "rois", "indices"],
                               attributes: ["output_height": .int(5), "output_width": .int(5), "sampling_ratio": .int(2)])
        let inputs: [ValueFact?] = [fact([1, 4, 10, 10]), fact([3, 4]), fact([3], .int64)]
        let (outputs, cost) = try run(align, inputs)
        #expect(outputs == [fact([3, 4, 5, 5])])
        // 300 outputs · 2 · 2 samples · 8 FLOPs.
        #expect(cost == OpCost(macs: 0, flops: 9600))
        let adaptive = try schema("RoiAlign", inputs: ["x", "rois", "indices"])
        #expect(adaptive.cost(inputs, try adaptive.infer(inputs)) == nil)
        let maxPool = try schema("MaxRoiPool", inputs: ["x", "rois"], attributes: ["pooled_shape": .ints([2, 3])])
        #expect(try maxPool.infer([fact([1, 4, 10, 10]), fact([6, 5])]) == [fact([6, 4, 2, 3])])
        #expect(throws: ModelError.self) { try schema("MaxRoiPool", inputs: ["x", "rois"]) }
        #expect(throws: ModelError.self) { try align.infer([fact([1, 4, 10]), nil, nil]) }
    }

    @Test func gridSampleFollowsTheGrid() throws {
        let sample = try schema("GridSample", inputs: ["x", "grid"])
        let (outputs, cost) = try run(sample, [fact([1, 2, 4, 4]), fact([1, 3, 5, 2])])
        #expect(outputs == [fact([1, 2, 3, 5])])
        // Bilinear: 4 products and 3 sums per output element.
        #expect(cost == OpCost(macs: 0, flops: 30 * 7))
        #expect(throws: ModelError.self) { try sample.infer([fact([1, 2, 4, 4]), fact([1, 3, 5, 3])]) }
        #expect(throws: ModelError.self) { try schema("GridSample", inputs: ["x", "grid"], attributes: ["mode": text("bilinear")], opset: 20) }
        _ = try schema("GridSample", inputs: ["x", "grid"], attributes: ["mode": text("bicubic")], opset: 16)
    }

    @Test func affineGridNeedsTheSizeValues() throws {
        let grid = try schema("AffineGrid", inputs: ["theta", "size"], opset: 20)
        let size = ValueFact(dtype: .int64, value: KnownValue(integers: [.known(2), .known(3), .known(5), .known(6)]))
        let (outputs, cost) = try run(grid, [fact([2, 2, 3]), size])
        #expect(outputs == [fact([2, 5, 6, 2])])
        // 60 points · 2 coordinates · 2 MACs, plus the translation per coordinate.
        #expect(cost == OpCost(macs: 240, flops: 480 + 120))
        #expect(try grid.infer([fact([2, 3, 4]), fact([5], .int64)])[0].shape == Shape([.known(2), .unknown, .unknown, .unknown, .known(3)]))
        #expect(throws: ModelError.self) { try grid.infer([fact([2, 4, 5]), nil]) }
    }

    @Test func dftShapesForEachForm() throws {
        let real = try schema("DFT", inputs: ["x"], attributes: ["onesided": .int(1)], opset: 20)
        let (outputs, cost) = try run(real, [fact([1, 10, 10, 1])])
        #expect(outputs == [fact([1, 10, 6, 2])])
        // 10 real transforms of length 10: half of 5 · 10 · ⌈log₂ 10⌉ = 100 FLOPs each.
        #expect(cost == OpCost(macs: 0, flops: 1000))
        let inverse = try schema("DFT", inputs: ["x"], attributes: ["axis": .int(1), "inverse": .int(1), "onesided": .int(1)], opset: 19)
        #expect(try inverse.infer([fact([1, 6, 10, 2])]) == [fact([1, 10, 10, 1])])
        let lengthGiven = try schema("DFT", inputs: ["x", "n", "axis"], opset: 20)
        #expect(try lengthGiven.infer([fact([3, 8, 2]), scalar(16), scalar(1)]) == [fact([3, 16, 2])])
        // An unknown axis keeps every dimension only for a full transform of the default length.
        let unknownAxis = try schema("DFT", inputs: ["x", "", "axis"], opset: 20)
        #expect(try unknownAxis.infer([fact([4, 8, 1]), nil, fact([], .int64)]) == [fact([4, 8, 2])])
        #expect(throws: ModelError.self) { try unknownAxis.infer([fact([4, 8, 1]), nil, scalar(-1)]) }
        #expect(throws: ModelError.self) { try inverse.infer([fact([1, 6, 10, 1])]) }
    }

    @Test func stftCountsFramesFromTheStep() throws {
        let stft = try schema("STFT", inputs: ["signal", "step", "window"], opset: 17)
        let inputs: [ValueFact?] = [fact([1, 128, 1]), scalar(8), fact([16])]
        let (outputs, cost) = try run(stft, inputs)
        #expect(outputs == [fact([1, 15, 9, 2])])
        // 15 frames: half an FFT of 16 (5 · 16 · 4 / 2 = 160) and 16 window products each.
        #expect(cost == OpCost(macs: 0, flops: 15 * 176))
        let unknownStep = try stft.infer([fact([1, 128, 1]), fact([], .int64), fact([16])])
        #expect(unknownStep == [ValueFact(dtype: .float, shape: Shape([.known(1), .unknown, .known(9), .known(2)]))])
        #expect(throws: ModelError.self) { try stft.infer([fact([1, 128, 1]), scalar(0), fact([16])]) }
    }

    @Test func generatorsTakeTheirSizeFromAttributesOrInputs() throws {
        let window = try schema("BlackmanWindow", inputs: ["n"], opset: 17)
        let (outputs, cost) = try run(window, [scalar(10, .int32)])
        #expect(outputs == [fact([10])])
        #expect(cost == OpCost(macs: 0, flops: 80))
        #expect(try window.infer([fact([], .int32)]) == [ValueFact(dtype: .float, shape: Shape([Dim.unknown]))])
        let mel = try schema("MelWeightMatrix", inputs: ["bins", "n", "rate", "low", "high"], opset: 17)
        #expect(try mel.infer([scalar(8, .int32), scalar(16, .int32), nil, nil, nil]) == [fact([9, 8])])
        let normal = try schema("RandomNormal", inputs: [], attributes: ["shape": .ints([2, 3])])
        #expect(try run(normal, []).outputs == [fact([2, 3])])
        let like = try schema("RandomUniformLike", inputs: ["x"], attributes: ["dtype": .int(11)])
        #expect(try like.infer([fact([4], .float16)]) == [fact([4], .double)])
        #expect(try schema("Bernoulli", inputs: ["p"]).infer([fact([3])]) == [fact([3])])
        let multinomial = try schema("Multinomial", inputs: ["logits"], attributes: ["sample_size": .int(3)])
        #expect(try multinomial.infer([fact([4, 10])]) == [fact([4, 3], .int32)])
        #expect(throws: ModelError.self) { try schema("RandomNormal", inputs: []) }
        #expect(throws: ModelError.self) { try schema("Multinomial", inputs: ["x"], attributes: ["sample_size": .int(0)]) }
    }

    @Test func determinantDropsTheMatrixAxes() throws {
        let det = try schema("Det", inputs: ["x"])
        let (outputs, cost) = try run(det, [fact([3, 4, 4])])
        #expect(outputs == [fact([3])])
        // LU: ⌊4³ / 3⌋ = 21 MACs per matrix.
        #expect(cost == OpCost(macs: 63, flops: 126))
        #expect(throws: ModelError.self) { try det.infer([fact([3, 4, 5])]) }
        #expect(throws: ModelError.self) { try det.infer([fact([4])]) }
    }

    @Test func textOperators() throws {
        let tfidf = try schema("TfIdfVectorizer", inputs: ["x"], attributes: [
            "mode": text("TF"), "ngram_indexes": .ints([0, 1, 2, 3, 4, 5, 6]), "ngram_counts": .ints([0, 4]),
            "min_gram_length": .int(2), "max_gram_length": .int(2), "max_skip_count": .int(0), "pool_int64s": .ints(Array(0..<14)),
        ], opset: 9)
        #expect(try tfidf.infer([fact([2, 6], .int32)]) == [fact([2, 7])])
        #expect(try tfidf.infer([fact([6], .int32)]) == [fact([7])])
        #expect(throws: ModelError.self) { try schema("TfIdfVectorizer", inputs: ["x"], attributes: ["mode": text("TF"), "ngram_indexes": .ints([0])]) }
        let split = try schema("StringSplit", inputs: ["x"], outputs: ["pieces", "counts"], opset: 20)
        #expect(try split.infer([fact([2], .string)]) == [ValueFact(dtype: .string, shape: Shape([.known(2), .unknown])), fact([2], .int64)])
        #expect(try split.infer([fact([0], .string)])[0] == fact([0, 0], .string))
        let normalizer = try schema("StringNormalizer", inputs: ["x"], opset: 10)
        #expect(try normalizer.infer([fact([1, 4], .string)]) == [fact([1, 4], .string)])
        let stopwords = try schema("StringNormalizer", inputs: ["x"], attributes: ["stopwords": .strings([Array("a".utf8)])], opset: 10)
        #expect(try stopwords.infer([fact([3], .string)]) == [ValueFact(dtype: .string, shape: Shape([Dim.unknown]))])
        #expect(try schema("StringConcat", inputs: ["a", "b"], opset: 20).infer([fact([2, 1], .string), fact([3], .string)]) == [fact([2, 3], .string)])
        #expect(try schema("RegexFullMatch", inputs: ["x"], opset: 20).infer([fact([5], .string)]) == [fact([5], .bool)])
        let decoder = try schema("ImageDecoder", inputs: ["bytes"], attributes: ["pixel_format": text("Grayscale")], opset: 20)
        let (image, cost) = try run(decoder, [fact([1058], .uint8)])
        #expect(image == [ValueFact(dtype: .uint8, shape: Shape([.unknown, .unknown, .known(1)]))])
        #expect(cost == nil)
    }

    @Test func maxUnpoolReversesThePoolingWindow() throws {
        let unpool = try schema("MaxUnpool", inputs: ["x", "i"], attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        #expect(try run(unpool, [fact([1, 1, 2, 2]), fact([1, 1, 2, 2], .int64)]).outputs == [fact([1, 1, 4, 4])])
        let given = ValueFact(dtype: .int64, value: KnownValue(integers: [1, 1, 5, 5].map(Dim.known)))
        #expect(try unpool.infer([fact([1, 1, 2, 2]), nil, given]) == [fact([1, 1, 5, 5])])
        #expect(throws: ModelError.self) { try schema("MaxUnpool", inputs: ["x", "i"]) }
        #expect(throws: ModelError.self) { try schema("MaxUnpool", inputs: ["x", "i"], attributes: ["kernel_shape": .ints([2]), "pads": .ints([1])]) }
    }

    @Test func optimizersUpdateTensorsAndStates() throws {
        let adam = try schema("Adam", domain: "ai.onnx.preview.training", inputs: ["R", "T", "X", "G", "V", "H"],
                              outputs: ["X2", "V2", "H2"], opset: 1)
        let inputs: [ValueFact?] = [fact([]), fact([], .int64), fact([3, 4]), fact([3, 4]), fact([3, 4]), fact([3, 4])]
        let (outputs, cost) = try run(adam, inputs)
        #expect(outputs == [fact([3, 4]), fact([3, 4]), fact([3, 4])])
        #expect(cost == OpCost(macs: 0, flops: 12 * 15))
        #expect(adam.holdsParameters(input: 2) && !adam.holdsParameters(input: 3) && !adam.holdsParameters(input: 0))
        let momentum = try schema("Momentum", domain: "ai.onnx.preview.training", inputs: ["R", "T", "X1", "X2", "G1", "G2", "V1", "V2"],
                                  outputs: ["X1n", "X2n", "V1n", "V2n"], attributes: ["mode": text("nesterov")], opset: 1)
        let m = try momentum.infer([fact([]), fact([]), fact([2]), fact([5]), fact([2]), fact([5]), fact([2]), fact([5])])
        #expect(m == [fact([2]), fact([5]), fact([2]), fact([5])])
        #expect(throws: ModelError.self) { try schema("Adagrad", domain: "ai.onnx.preview.training", inputs: ["R", "T", "X", "G"], opset: 1) }
        #expect(throws: ModelError.self) { try schema("Momentum", domain: "ai.onnx.preview.training", inputs: ["R", "T", "X", "G", "V"], opset: 1) }
    }

    @Test func machineLearningOperators() throws {
        let extractor = try schema("ArrayFeatureExtractor", domain: "ai.onnx.ml", inputs: ["x", "i"], opset: 1)
        #expect(try extractor.infer([fact([3, 4]), fact([2], .int64)]) == [fact([3, 2])])
        let encoder = try schema("LabelEncoder", domain: "ai.onnx.ml", inputs: ["x"], attributes: [
            "keys_strings": .strings([Array("a".utf8)]), "values_int64s": .ints([1]),
        ], opset: 4)
        #expect(try encoder.infer([fact([5], .string)]) == [fact([5], .int64)])
        #expect(throws: ModelError.self) {
            try schema("LabelEncoder", domain: "ai.onnx.ml", inputs: ["x"], attributes: ["values_int64s": .ints([1]), "values_floats": .floats([1])], opset: 4)
        }
        let trees = try schema("TreeEnsemble", domain: "ai.onnx.ml", inputs: ["x"], attributes: ["n_targets": .int(2)], opset: 5)
        let (outputs, cost) = try run(trees, [fact([3, 7])])
        #expect(outputs == [fact([3, 2])])
        #expect(cost == nil)
        let binarizer = try schema("Binarizer", domain: "ai.onnx.ml", inputs: ["x"], opset: 1)
        #expect(try run(binarizer, [fact([3, 4])]).cost == OpCost(macs: 0, flops: 12))
    }

    @Test func hostileNodesAreRejectedOrInferredSanely() {
        // ConvInteger, QLinearConv and DeformConv are left out while Conv.infer multiplies declared channel counts unchecked.
        let ops = ["QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul",
                   "NonMaxSuppression", "RoiAlign", "MaxRoiPool", "GridSample", "AffineGrid", "DFT", "STFT", "HannWindow",
                   "HammingWindow", "BlackmanWindow", "MelWeightMatrix", "RandomNormal", "RandomUniform", "RandomNormalLike",
                   "RandomUniformLike", "Bernoulli", "Multinomial", "Det", "TfIdfVectorizer", "StringNormalizer",
                   "RegexFullMatch", "StringConcat", "StringSplit", "ImageDecoder", "MaxUnpool", "BitCast",
                   "ai.onnx.preview.training.Momentum", "ai.onnx.preview.training.Adam", "ai.onnx.preview.training.Adagrad",
                   "ai.onnx.ml.ArrayFeatureExtractor", "ai.onnx.ml.Binarizer", "ai.onnx.ml.LabelEncoder",
                   "ai.onnx.ml.TreeEnsemble"]
        #expect(HostileNodes.check(ops, seed: 3) == [])
    }

    @Test func bitCastKeepsTheWidth() throws {
        let cast = try schema("BitCast", inputs: ["x"], attributes: ["to": .int(6)], opset: 26)
        #expect(try run(cast, [fact([2, 3])]).outputs == [fact([2, 3], .int32)])
        #expect(throws: ModelError.self) { try cast.infer([fact([2], .double)]) }
        #expect(throws: ModelError.self) { try schema("BitCast", inputs: ["x"], opset: 26) }
    }
}
