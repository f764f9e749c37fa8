// swift-tools-version:6.1
// Benchmarks of swift-segment-writer's encoders and decoders (package-benchmark). A package of
// its own, depending on the root package by path, so the root build never fetches or builds
// benchmark dependencies. Run with `make bench` from the repository root.
import PackageDescription

let package = Package(
    name: "swift-segment-writer-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-segment-writer", path: ".."),
        // Only the malloc interposer: jemalloc is not used, and the default RuntimeInterposer
        // trait (Swift 6.3 ARC hooks) is left off.
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SegmentBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "BinaryCoding", package: "swift-segment-writer"),
                .product(name: "TSDBIndex", package: "swift-segment-writer"),
                .product(name: "ProfilesParquet", package: "swift-segment-writer"),
                .product(name: "Pprof", package: "swift-segment-writer"),
                .product(name: "SymbolDB", package: "swift-segment-writer"),
                .product(name: "SegmentObject", package: "swift-segment-writer"),
                .product(name: "Accumulator", package: "swift-segment-writer"),
                .product(name: "CShims", package: "swift-segment-writer"),
            ],
            path: "Benchmarks/SegmentBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
