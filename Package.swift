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

        // The public umbrella: Model.load(url) and re-exports.
        .target(name: "ModelInfo", dependencies: ["ModelCore", "ONNXFormat"]),

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
        .testTarget(name: "ModelInfoCLITests", dependencies: ["modelinfo", "TestSupport"], exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v6]
)
