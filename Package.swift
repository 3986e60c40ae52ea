// swift-tools-version:6.0
import PackageDescription

// Layers, one direction only: lmlab → LMLab → LMEngine.
let package = Package(
    name: "lmlab",
    products: [
        .executable(name: "lmlab", targets: ["lmlab"]),
        .library(name: "LMEngine", targets: ["LMEngine"]),
        .library(name: "LMLab", targets: ["LMLab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `lmlab serve`: the OpenAI-compatible HTTP server (Sources/LMLab/Server).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        // `load api:`: the lab as a client of an OpenAI-compatible server (Sources/LMLab/API).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.30.0"),
    ],
    targets: [
        // libedit through its readline-compatible header; see module.modulemap.
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // The kernels are written with Swift SIMD types; haswell (AVX2, FMA, F16C)
        // lets them compile to 256-bit vector code. Every x86 CPU since ~2015 has it.
        .target(
            name: "LMEngine",
            dependencies: ["LMKernelsVNNI", "CPrefetch"],
            swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]
        ),
        // The integer kernels again with VNNI's vpdpbusd (256- and 512-bit), called by
        // LMEngine only on CPUs that have it (a separate module: the flag would let LLVM put VNNI
        // instructions anywhere in the code it compiles).
        // One inline C function: the prefetch hint Swift has no name for.
        .target(name: "CPrefetch"),
        .target(
            name: "LMKernelsVNNI",
            dependencies: ["CPrefetch"],
            swiftSettings: [.unsafeFlags(["-target-cpu", "haswell", "-Xcc", "-mavxvnni", "-Xcc", "-mavx512f", "-Xcc", "-mavx512bw",
                                           "-Xcc", "-mavx512dq", "-Xcc", "-mavx512vl", "-Xcc", "-mavx512vnni"])]
        ),
        .target(
            name: "LMLab",
            dependencies: [
                "LMEngine", "CEditLine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "lmlab",
            dependencies: [
                "LMLab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LMEngineTests", dependencies: ["LMEngine"]),
        .testTarget(name: "LMLabTests", dependencies: ["LMLab", "LMEngine"]),
    ],
    swiftLanguageModes: [.v5]
)
