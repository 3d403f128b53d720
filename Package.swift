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

        // protoc-c output for our onnx.proto, plus the wire-format pre-pass
        // that validates a file and lifts tensor payloads out before
        // protobuf-c sees it.
        .target(
            name: "CONNX",
            dependencies: ["CProtobufC"],
            exclude: ["proto"],
            cSettings: [.unsafeFlags(["-O2"])]
        ),

        // Format-neutral model: types, tensors, graph, mapped files. No C.
        .target(name: "ModelCore"),

        // ONNX reading and writing.
        .target(name: "ONNXFormat", dependencies: ["ModelCore", "CONNX", "CProtobufC"]),

        // Standard architectures (AlexNet, VGG, ResNet, MobileNetV2) as graphs with seeded weights.
        .target(name: "Zoo", dependencies: ["ModelCore"]),

        // Shape inference, per-node costs, grouping and comparison.
        .target(name: "Analysis", dependencies: ["ModelCore"]),

        // The public umbrella: Model.load(url) and re-exports.
        .target(name: "ModelInfo", dependencies: ["ModelCore", "ONNXFormat", "Zoo", "Analysis"]),

        // The command-line tool: argument parsing and formatting only.
        .executableTarget(
            name: "modelinfo",
            dependencies: [
                "ModelInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .target(name: "TestSupport", dependencies: ["ModelInfo"], path: "Tests/TestSupport"),
        .testTarget(name: "ModelCoreTests", dependencies: ["ModelCore", "TestSupport"]),
        .testTarget(name: "ONNXFormatTests", dependencies: ["ONNXFormat", "ModelInfo", "TestSupport"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "ModelInfo", "TestSupport"]),
        .testTarget(name: "ZooTests", dependencies: ["Zoo", "ModelInfo", "modelinfo", "TestSupport"]),
        .testTarget(name: "ModelInfoCLITests", dependencies: ["modelinfo", "TestSupport"], exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v6]
)
