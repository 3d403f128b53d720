import Foundation
import ModelInfo
import Testing
import TestSupport

/// A model rewritten by onnxruntime's transformer optimizer counts as its
/// source: the fused com.microsoft operators are known, and the MACs and
/// parameters stay the same. `Tools/make-optimized-models` writes the pair
/// from the zoo's ViT-B/16.
@Suite struct OptimizedModelTests {
    static func analysis(_ file: String) throws -> ModelAnalysis {
        let path = Fixtures.root.appendingPathComponent(".generated/optimized/\(file)").path
        try #require(FileManager.default.fileExists(atPath: path), "no \(file): run Tools/make-optimized-models")
        return try Analyzer.analyze(try ONNXReader.read(path: path))
    }

    @Test func anOptimizedViTCountsAsThePlainOne() throws {
        let plain = try Self.analysis("vit_b_16.onnx")
        let optimized = try Self.analysis("vit_b_16.optimized.onnx")
        #expect(optimized.unknownOperators.isEmpty)
        #expect(optimized.nodes.allSatisfy { $0.status == .counted })
        let fused = Set(optimized.nodes.map(\.op).filter { $0.hasPrefix("com.microsoft.") })
        #expect(fused.contains("com.microsoft.SkipLayerNormalization"), "the optimizer fused \(fused)")
        #expect(optimized.nodes.count < plain.nodes.count)
        #expect(optimized.totals.macs == plain.totals.macs)
        #expect(optimized.totals.macs == 17_563_828_224)
        #expect(optimized.totals.params == plain.totals.params)
        #expect(optimized.totals.paramsUnique == 86_567_656)
    }
}
