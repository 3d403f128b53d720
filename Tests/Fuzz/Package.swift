// swift-tools-version: 6.1
import Foundation
import PackageDescription

// The fuzz targets: one libFuzzer executable per entry point that reads
// untrusted bytes. Built only by Tools/fuzz, with -sanitize=fuzzer,address
// (and the C targets with UndefinedBehaviorSanitizer too). Each target
// defines LLVMFuzzerTestOneInput and libFuzzer's own main drives it.
// A path dependency is known by its folder's name, which is the checkout's
// (two levels up: Tests/Fuzz).
let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent
let modelInfo = Target.Dependency.product(name: "ModelInfo", package: checkout.lowercased())

let package = Package(
    name: "ModelInfoFuzz",
    dependencies: [
        .package(path: "../.."),
    ],
    targets: [
        // Writes each input where the readers, which take paths, map it.
        .target(name: "FuzzSupport", dependencies: [modelInfo]),
        // ONNX bytes → Model.load → analysis.
        .executableTarget(name: "fuzz-onnx", dependencies: ["FuzzSupport", modelInfo]),
        // .swm bytes → SWMReader.check, every tensor's checksum and decoding.
        .executableTarget(name: "fuzz-swm", dependencies: ["FuzzSupport", modelInfo]),
        // The same, after fixing up the sizes and every checksum, so that
        // mutations get past the CRCs to the decoders.
        .executableTarget(name: "fuzz-swm-repaired", dependencies: ["FuzzSupport", modelInfo]),
        // .npy / .npz / TensorProto .pb bytes → TensorFile.read.
        .executableTarget(name: "fuzz-tensors", dependencies: ["FuzzSupport", modelInfo]),
        // ONNX bytes → ExecutionPlan → a run on random inputs, under the engine's limits.
        .executableTarget(name: "fuzz-engine", dependencies: ["FuzzSupport", modelInfo]),
    ],
    swiftLanguageModes: [.v6]
)
