// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of LMEngine's kernels, run with `swift package benchmark`
// (`make bench` at the repository root). A package of its own so that the main
// build, `make test` and CI never fetch or compile the benchmark harness.
//
// The plugin finds benchmark executables by their folder: Benchmarks/<Target>/ here.
let package = Package(
    name: "lmlab-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        // Named, because a path dependency is otherwise known by its folder name
        // (the checkout's, which differs between clones and worktrees).
        .package(name: "lmlab", path: ".."),
        // Naming the traits replaces the harness's defaults: MallocInterposer counts
        // allocations (the kernels should make none), and leaving out RuntimeInterposer
        // keeps its Linux-only ARC interposer package out of the dependency graph.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "KernelBenchmarks",
            dependencies: [
                .product(name: "LMEngine", package: "lmlab"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/KernelBenchmarks",
            // Same CPU target as LMEngine: in release builds small public kernels
            // (dotF32) can be inlined into this module, and must then compile to the
            // same AVX2/FMA code the engine runs.
            swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
