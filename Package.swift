// swift-tools-version:6.1
// swift-segment-writer: a Pyroscope v2 segment-writer. See ARCHITECTURE.md for the module map.
import PackageDescription

let package = Package(
    name: "swift-segment-writer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "segtool", targets: ["segtool"]),
        .executable(name: "segment-writer", targets: ["segment-writer"]),
        .executable(name: "loadgen", targets: ["loadgen"]),
        // Libraries for the benchmark package in Benchmarks/ (depends on this package by path).
        .library(name: "BinaryCoding", targets: ["BinaryCoding"]),
        .library(name: "TSDBIndex", targets: ["TSDBIndex"]),
        .library(name: "ProfilesParquet", targets: ["ProfilesParquet"]),
        .library(name: "Pprof", targets: ["Pprof"]),
        .library(name: "SymbolDB", targets: ["SymbolDB"]),
        .library(name: "SegmentObject", targets: ["SegmentObject"]),
        .library(name: "Accumulator", targets: ["Accumulator"]),
        .library(name: "CShims", targets: ["CShims"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // MARK: C libraries (liburing, zstd, libdeflate, OpenSSL) and C helpers.
        .target(
            name: "CShims",
            path: "CShims",
            cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [
                .linkedLibrary("deflate"),
                .linkedLibrary("zstd"),
                .linkedLibrary("uring"),
                .linkedLibrary("ssl"),
                .linkedLibrary("crypto"),
            ]
        ),

        // MARK: Byte-level primitives shared by every format and protocol.
        .target(name: "BinaryCoding", dependencies: ["CShims"]),

        // MARK: Memory: the per-shard column arena (address space reserved at start-up, bump-allocated).
        .target(name: "Arena", exclude: ["README.md"]),

        // MARK: Segment format: pure code, bytes in and bytes out, no I/O.
        .target(name: "TSDBIndex", dependencies: ["BinaryCoding"], path: "Sources/SegmentFormat/TSDBIndex", exclude: ["README.md"]),
        .target(name: "SymbolDB", dependencies: ["Arena", "BinaryCoding", "ProfilesParquet"], path: "Sources/SegmentFormat/SymbolDB", exclude: ["README.md"]),
        .target(name: "ProfilesParquet", dependencies: ["BinaryCoding", "CShims"], path: "Sources/SegmentFormat/ProfilesParquet", exclude: ["README.md"]),
        .target(
            name: "SegmentObject",
            dependencies: ["BinaryCoding", "TSDBIndex", "SymbolDB", "ProfilesParquet"],
            path: "Sources/SegmentFormat/SegmentObject",
            exclude: ["README.md"]
        ),

        // MARK: Wire decoding of pushes: PushRequest and pprof, zero-copy.
        .target(name: "Pprof", dependencies: ["BinaryCoding", "CShims"], exclude: ["README.md"]),

        // MARK: The per-shard head: decoded pushes accumulated in arenas, flushed as a segment.
        .target(
            name: "Accumulator",
            dependencies: ["Arena", "BinaryCoding", "Pprof", "TSDBIndex", "SymbolDB", "ProfilesParquet", "SegmentObject"],
            exclude: ["README.md"]
        ),

        // MARK: Object storage: filesystem and S3 (SigV4, TLS through OpenSSL) backends.
        .target(name: "ObjectStorage", dependencies: ["BinaryCoding", "HTTP1", "TLS", "CShims", "Runtime"], exclude: ["README.md"]),

        // MARK: Runtime: per-core epoll loops, io_uring, timers, inboxes.
        .target(name: "Runtime", dependencies: ["CShims"], exclude: ["README.md"]),

        // MARK: Wire protocols: HTTP/2 (h2c) with HPACK, gRPC over it.
        .target(name: "HTTP2", dependencies: ["BinaryCoding"], path: "Sources/Protocols/HTTP2", exclude: ["README.md"]),
        .target(name: "HTTP1", dependencies: ["BinaryCoding"], path: "Sources/Protocols/HTTP1"),
        .target(name: "GRPC", dependencies: ["HTTP2", "BinaryCoding", "CShims"], path: "Sources/Protocols/GRPC", exclude: ["README.md"]),
        // TLS clients through OpenSSL memory BIOs: no sockets, driven by whoever owns the connection.
        .target(name: "TLS", dependencies: ["CShims"], path: "Sources/Protocols/TLS", exclude: ["README.md"]),

        // MARK: Metastore: the AddBlock client (leader discovery, retries, deadline).
        .target(name: "Metastore", dependencies: ["GRPC", "HTTP2", "TLS", "Runtime", "SegmentObject", "BinaryCoding"], exclude: ["README.md"]),

        // MARK: Membership: the segment-writer ring entry, published over dskit memberlist.
        .target(name: "Membership", dependencies: ["Runtime", "BinaryCoding"], exclude: ["README.md"]),

        // MARK: The service: configuration and the wiring of the modules above.
        .target(
            name: "SegmentWriterService",
            dependencies: [
                "Runtime", "HTTP1", "HTTP2", "GRPC", "TLS", "Pprof", "Accumulator", "SegmentObject", "ObjectStorage", "Metastore", "Membership",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Service",
            exclude: ["README.md"]
        ),

        // MARK: Tools.
        .executableTarget(name: "segment-writer", dependencies: ["SegmentWriterService", "Runtime", "CShims"], path: "Sources/Tools/segment-writer"),
        .target(
            name: "SegmentTools",
            dependencies: ["SegmentObject", "TSDBIndex", "SymbolDB", "ProfilesParquet", "Pprof", "BinaryCoding"],
            path: "Sources/Tools/SegmentTools",
            exclude: ["README.md"]
        ),
        .executableTarget(
            name: "segtool",
            dependencies: [
                "SegmentTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Tools/segtool"
        ),
        // The load generator: our own h2c gRPC client on Runtime loops, statistics and reports.
        .target(
            name: "LoadGen",
            dependencies: [
                "Runtime", "HTTP2", "GRPC", "Pprof", "Accumulator", "SegmentObject", "ProfilesParquet", "BinaryCoding", "CShims",
                "ObjectStorage", "Metastore", "SegmentWriterService",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Sources/Tools/LoadGen",
            exclude: ["README.md"]
        ),
        .executableTarget(
            name: "loadgen",
            dependencies: ["LoadGen", "Runtime", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/loadgen"
        ),

        // What the parts facing the network promise for any input, one check per input, for a
        // fuzzer (`make fuzz`) and its replay.
        .target(
            name: "FuzzChecks",
            dependencies: ["Accumulator", "Pprof", "SegmentObject", "GRPC", "HTTP2", "HTTP1", "Membership", "ObjectStorage", "Metastore", "BinaryCoding"],
            path: "Sources/Tools/FuzzChecks",
            exclude: ["README.md"]
        ),
        .executableTarget(name: "fuzz", dependencies: ["FuzzChecks"], path: "Sources/Tools/fuzz"),

        // MARK: Tests.
        .target(name: "TestSupport", dependencies: ["Runtime", "CShims", "TLS"], path: "Tests/TestSupport"),
        .testTarget(name: "ArenaTests", dependencies: ["Arena"]),
        .testTarget(name: "BinaryCodingTests", dependencies: ["BinaryCoding", "TestSupport"]),
        .testTarget(name: "TSDBIndexTests", dependencies: ["TSDBIndex", "TestSupport"]),
        .testTarget(name: "SymbolDBTests", dependencies: ["SymbolDB", "ProfilesParquet", "TestSupport"]),
        .testTarget(name: "ProfilesParquetTests", dependencies: ["ProfilesParquet", "TestSupport"]),
        .testTarget(name: "SegmentObjectTests", dependencies: ["SegmentObject", "TestSupport"]),
        .testTarget(name: "PprofTests", dependencies: ["Pprof", "TestSupport"]),
        .testTarget(name: "AccumulatorTests", dependencies: ["Accumulator", "Arena", "TestSupport"]),
        .testTarget(name: "FuzzChecksTests", dependencies: ["FuzzChecks", "Pprof", "TestSupport"]),
        .testTarget(name: "ServiceTests", dependencies: [
            "SegmentWriterService", "TLS", "Accumulator", "Pprof", "Membership", "Runtime", "GRPC", "HTTP2", "SegmentObject", "TestSupport",
            .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
        .testTarget(name: "ObjectStorageTests", dependencies: ["ObjectStorage", "TLS", "TestSupport"]),
        .testTarget(name: "TLSTests", dependencies: ["TLS", "CShims", "TestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "TestSupport"]),
        .testTarget(name: "HTTP2Tests", dependencies: ["HTTP2", "GRPC", "TestSupport"]),
        .testTarget(name: "MetastoreTests", dependencies: ["Metastore", "TLS", "BinaryCoding", "TestSupport"]),
        .testTarget(name: "MembershipTests", dependencies: ["Membership", "Runtime", "BinaryCoding", "TestSupport"]),
        .testTarget(name: "LoadGenTests", dependencies: ["LoadGen", "Pprof", "Accumulator", "BinaryCoding", "GRPC", "Runtime", "SegmentObject", "ObjectStorage", "TestSupport",
                                                         .product(name: "Histogram", package: "hdrhistogram-swift")]),
        .testTarget(name: "SegmentToolsTests", dependencies: [
            "SegmentTools", "TestSupport", "Pprof", "Accumulator", "SegmentObject", "TSDBIndex", "SymbolDB", "ProfilesParquet", "BinaryCoding",
        ]),
    ]
)
