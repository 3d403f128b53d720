// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ModelInfo",
    products: [
        .library(name: "ModelInfo", targets: ["ModelInfo"]),
        .executable(name: "modelinfo", targets: ["modelinfo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries, installed by Tools/bootstrap.
        .systemLibrary(
            name: "CProtobufC",
            pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        // protoc-c output for our onnx.proto, plus the wire-format pre-pass
        // that validates a file and lifts tensor payloads out before
        // protobuf-c sees it.
        .target(name: "CONNX", dependencies: ["CProtobufC"], exclude: ["proto"]),

        // Float32 GEMM and im2col micro-kernels for the engine, with
        // AVX-512, AVX2 and portable variants chosen at run time. A release
        // build compiles C at -O2; Tools/test passes -Xcc -O2 to its debug
        // build so the tests run the kernels at speed. No unsafe flags here:
        // SwiftPM refuses them in a package that is used as a dependency.
        .target(name: "CKernels"),

        // CRC-32 for the native format: carry-less-multiplication folding
        // (PCLMULQDQ, VPCLMULQDQ on AVX-512) chosen at run time, zlib otherwise.
        .target(name: "CChecksum", dependencies: ["CZlib"]),

        // Format-neutral model: types, tensors, graph, mapped files, element codecs. No C.
        .target(name: "ModelCore"),

        // The one Swift wrapper of zlib: deflate, inflate and CRC-32 (by CChecksum).
        .target(name: "Zlib", dependencies: ["ModelCore", "CZlib", "CChecksum"]),

        // ONNX reading and writing, models and standalone TensorProtos: the
        // one Swift module that drives protobuf-c.
        .target(name: "ONNXFormat", dependencies: ["ModelCore", "CONNX", "CProtobufC"]),

        // The native format (.swm): aligned, checksummed, optionally compact.
        .target(name: "SWMFormat", dependencies: ["ModelCore", "Zlib", "CCrypto"]),

        // Standard architectures (AlexNet, VGG, ResNet, MobileNetV2) as graphs with seeded weights.
        .target(name: "Zoo", dependencies: ["ModelCore"]),

        // The CPU inference engine: plans a graph once, runs it on all cores.
        .target(name: "Engine", dependencies: ["ModelCore", "CKernels"]),

        // Shape inference, per-node costs, grouping and comparison.
        .target(name: "Analysis", dependencies: ["ModelCore"]),

        // Tensor files for run and verify: NumPy .npy and .npz, ONNX TensorProto .pb.
        .target(name: "TensorFiles", dependencies: ["ModelCore", "ONNXFormat", "Zlib"]),

        // The public umbrella: Model.load(url) and re-exports.
        .target(name: "ModelInfo", dependencies: ["ModelCore", "ONNXFormat", "SWMFormat", "Zoo", "Analysis", "Engine", "TensorFiles"]),

        // The command-line tool: argument parsing and formatting only.
        .executableTarget(
            name: "modelinfo",
            dependencies: [
                "ModelInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Runs the engine over the ONNX node conformance suite (Tools/conformance).
        .executableTarget(name: "modelinfo-conformance", dependencies: ["ModelInfo"]),

        .target(name: "TestSupport", dependencies: ["ModelInfo"], path: "Tests/TestSupport"),
        .testTarget(name: "ModelCoreTests", dependencies: ["ModelCore", "TestSupport"]),
        .testTarget(name: "ONNXFormatTests", dependencies: ["ONNXFormat", "ModelInfo", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "CKernels", "ModelInfo", "TestSupport"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "ModelInfo", "TestSupport"]),
        .testTarget(name: "ZooTests", dependencies: ["Zoo", "ModelInfo", "modelinfo", "TestSupport"]),
        .testTarget(name: "ZlibTests", dependencies: ["Zlib", "CChecksum", "CZlib"]),
        .testTarget(name: "SWMFormatTests", dependencies: ["SWMFormat", "Zlib", "ModelInfo", "TestSupport"]),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels"]),
        .testTarget(name: "TensorFilesTests", dependencies: ["TensorFiles", "ModelInfo", "TestSupport"]),
        .testTarget(name: "ModelInfoCLITests", dependencies: ["modelinfo", "TestSupport"], exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v6]
)
