import Foundation
import ModelInfo
@testable import SWMFormat
import Testing
import TestSupport

/// The compact encodings: exact where they should be, bounded error where lossy.
@Suite struct EncodingTests {
    static func floats(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    static func encode(_ values: [Float], as encoding: StoredEncoding, dims: [Int], axis: Int = 0) -> [UInt8] {
        values.withUnsafeBytes { TensorCodec.encode($0, as: encoding, dims: dims, axis: axis) }
    }

    static func decode(_ stream: [UInt8], encoding: StoredEncoding, dims: [Int], axis: Int = 0) throws -> [Float] {
        let entry = try TensorEntry(name: "t", dtype: .float, dims: dims, docString: "", encoding: encoding, compression: .none,
                                    axis: axis, offset: 0, storedLength: stream.count, crc: 0)
        var out = [Float](repeating: .nan, count: entry.elementCount)
        try stream.withUnsafeBytes { source in
            try out.withUnsafeMutableBytes { target in try TensorCodec.decode(source, entry: entry, into: target) }
        }
        return out
    }

    @Test func float16MatchesIEEEHalfRounding() throws {
        let values: [Float] = [0, -0, 1, -2.5, 65504, 65520, 1e-8, 6.1e-5, 3.0e-7, .infinity, -.infinity, 0.1, 1 + 1.0 / 2048]
        let stream = Self.encode(values, as: .float16, dims: [values.count], axis: 0)
        #expect(stream.count == values.count * 2)
        let decoded = try Self.decode(stream, encoding: .float16, dims: [values.count])
        for (v, d) in zip(values, decoded) {
            #expect(d.bitPattern == Float(Float16(v)).bitPattern, "\(v) → \(d)")
        }
        let nan = try Self.decode(Self.encode([.nan], as: .float16, dims: [1], axis: 0),
                                  encoding: .float16, dims: [1])
        #expect(nan[0].isNaN)
    }

    @Test func bfloat16RoundsToNearestEven() throws {
        // 1 + 2⁻⁸ is halfway between two bfloat16 values: ties go to the even one (1.0);
        // 1 + 3·2⁻⁸ goes up to 1 + 2⁻⁶.
        let values: [Float] = [1, 1 + 1.0 / 256, 1 + 3.0 / 256, -3.14159, .infinity, Float(bitPattern: 0x0001_0000), .greatestFiniteMagnitude]
        let stream = Self.encode(values, as: .bfloat16, dims: [values.count], axis: 0)
        let decoded = try Self.decode(stream, encoding: .bfloat16, dims: [values.count])
        #expect(decoded[0] == 1)
        #expect(decoded[1] == 1)
        #expect(decoded[2] == 1 + 1.0 / 64)
        #expect(abs(decoded[3] - -3.14159) < 0.01)
        #expect(decoded[4] == .infinity)
        #expect(decoded[6] == .infinity, "the largest float rounds up past bfloat16's range")
        let nan = try Self.decode(Self.encode([.nan], as: .bfloat16, dims: [1], axis: 0),
                                  encoding: .bfloat16, dims: [1])
        #expect(nan[0].isNaN)
    }

    /// Per-channel symmetric int8: each element within half a step of its
    /// channel's scale, and each channel's largest magnitude exact.
    @Test(arguments: [0, 1])
    func int8KeepsEachChannelWithinHalfAStep(axis: Int) throws {
        var generator = SeededGenerator(seed: 3)
        let dims = [6, 10]
        // Channels of very different magnitudes: one shared scale would flatten the small ones.
        let values: [Float] = (0..<60).map { i in
            let channel = axis == 0 ? i / 10 : i % 10
            return (generator.unitFloat() * 2 - 1) * Float(1 << channel)
        }
        let stream = Self.encode(values, as: .int8, dims: dims, axis: axis)
        #expect(stream.count == dims[axis] * 4 + 60)
        let decoded = try Self.decode(stream, encoding: .int8, dims: dims, axis: axis)
        let layout = ChannelLayout(dims: dims, axis: axis)
        for c in 0..<dims[axis] {
            let members = (0..<60).filter { layout.channel(of: $0) == c }
            let scale = members.map { values[$0].magnitude }.max()! / 127
            for i in members {
                #expect(abs(decoded[i] - values[i]) <= scale / 2 * 1.0001, "element \(i) of channel \(c)")
            }
        }
    }

    @Test func int8AxesFollowEachOperatorsOutputChannels() throws {
        let graph = try ModelInfo.Model.load(path: "zoo:resnet18").model.graph
        let axes = EncodingChoice.int8Axes(in: graph)
        let convWeights = graph.nodes.filter { $0.opType == "Conv" }.map { $0.inputs[1] }
        #expect(!convWeights.isEmpty)
        for name in convWeights { #expect(axes[name] == .some(0)) }
        // torchvision's classifier is Gemm with transB = 1: the weight is [N, K].
        let fc = try #require(graph.nodes.first { $0.opType == "Gemm" })
        #expect(axes[fc.inputs[1]] == .some(0))
        // Biases are not weights of these operators.
        #expect(axes[fc.inputs[2]] == .some(nil))
    }

    /// Some exporters keep every weight in a Constant node instead of an
    /// initializer; int8 must find those weights too.
    @Test func int8StoresWeightsHeldInConstantNodes() throws {
        var model = try Zoo.build("resnet18", imageSize: 32)
        let constants = model.graph.initializers.map { tensor in
            Node(name: "const_" + tensor.name, opType: "Constant", outputs: [tensor.name],
                 attributes: [Attribute(name: "value", value: .tensor(tensor))])
        }
        model.graph.nodes = constants + model.graph.nodes
        model.graph.initializers = []
        let convWeights = model.graph.nodes.filter { $0.opType == "Conv" }.count
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("constants.swm").path
        let summary = try SWMWriter(weights: .int8).write(model, to: path, provenance: { RoundTripTests.provenance })
        // Every Conv kernel and the classifier's matrix; biases and BatchNorm stay float32.
        #expect(summary.encodings[.int8] == convWeights + 1)
        let converted = try SWMReader.read(path: path, verify: true).model
        let agreement = try ConversionCheck.compare(original: model, converted: converted, options: AnalysisOptions(),
                                                    samples: 1, seed: 1, threads: 2)
        let output = try #require(agreement.first)
        #expect(output.minCosineSimilarity >= 0.99, "cosine \(output.minCosineSimilarity)")
    }

    @Test func shuffleAndDeflateRoundTrip() throws {
        var generator = SeededGenerator(seed: 11)
        let values: [Float] = (0..<10_001).map { _ in (generator.unitFloat() - 0.5) * 0.04 }
        let bytes = Self.floats(values)
        let packed = try #require(bytes.withUnsafeBytes { TensorCodec.compress($0, unit: 4, floatingPoint: true) })
        #expect(packed.count < bytes.count * 9 / 10, "shuffled small floats should shrink (\(packed.count) of \(bytes.count))")
        let inflated = try packed.withUnsafeBytes { try TensorCodec.inflate($0, expected: bytes.count) }
        #expect(TensorCodec.unshuffle(inflated, unit: 4) == bytes)
        // Too few or too many bytes promised are errors, not crashes.
        #expect(throws: ModelError.self) { try packed.withUnsafeBytes { try TensorCodec.inflate($0, expected: bytes.count + 1) } }
        #expect(throws: ModelError.self) { try packed.withUnsafeBytes { try TensorCodec.inflate($0, expected: bytes.count - 1) } }
        #expect(throws: ModelError.self) { try packed.dropLast(5).withUnsafeBytes { try TensorCodec.inflate($0, expected: bytes.count) } }
    }

    /// The size and accuracy bars, on ResNet-18 (the bench script measures VGG-16 and ResNet-50).
    @Test func lossyEncodingsMeetTheirSizeAndAccuracyBars() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try Zoo.build("resnet18", imageSize: 64)
        var sizes: [WeightEncoding: Int] = [:]
        var models: [WeightEncoding: Model] = [:]
        for weights in WeightEncoding.allCases {
            let path = folder.appendingPathComponent("\(weights.rawValue).swm").path
            let summary = try SWMWriter(weights: weights).write(original, to: path, provenance: { RoundTripTests.provenance })
            sizes[weights] = summary.fileBytes
            models[weights] = try SWMReader.read(path: path, verify: true).model
        }
        let f32 = Double(sizes[.f32]!)
        #expect(Double(sizes[.f16]!) <= 0.51 * f32)
        #expect(Double(sizes[.bf16]!) <= 0.51 * f32)
        #expect(Double(sizes[.int8]!) <= 0.27 * f32)
        for weights in [WeightEncoding.f16, .int8] {
            let agreement = try ConversionCheck.compare(original: original, converted: models[weights]!, options: AnalysisOptions(), samples: 1, seed: 1, threads: 2)
            let output = try #require(agreement.first)
            #expect(output.minCosineSimilarity >= (weights == .f16 ? 0.9999 : 0.99), "\(weights): cosine \(output.minCosineSimilarity)")
            #expect(output.top1Rows == 1)
        }
    }
}
