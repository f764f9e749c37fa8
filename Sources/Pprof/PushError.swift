/// gRPC status codes the Push path can produce (ingest-and-ops.md §1.3).
public enum GRPCStatusCode {
    public static let invalidArgument: UInt32 = 3
    public static let resourceExhausted: UInt32 = 8
    public static let `internal`: UInt32 = 13
}

/// Why a Push was refused before it reached a shard, with the gRPC status it maps to.
/// Messages follow Pyroscope's wording where ingest-and-ops.md §1.3 / §2.1 give it.
public struct PushError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The request message itself is not valid protobuf (grpc-go's codec fails first).
        case requestUndecodable
        /// A proto3 `string` field (tenant, label, annotation) holds invalid UTF-8.
        case invalidUTF8
        /// Request larger than the server's receive limit.
        case requestTooLarge
        /// §1.3 check 2: `tenant_id == ""`.
        case missingTenant
        /// §1.3 check 3: `profile_id` is not 16 bytes.
        case invalidProfileID
        /// §2.1 step 1: gzip header could not be read (`gzip reset: …`).
        case gzipHeader
        /// §2.1: the gzip stream is corrupt (`copy to buffer: …`).
        case gzipCorrupt
        /// §2.1 step 2: more decompressed bytes than the configured limit.
        case decompressedSizeExceeded
        /// Decompressed/compressed ratio above the configured bound (decompression bomb).
        case compressionRatioExceeded
        /// §2.1 step 3: the pprof `Profile` is not decodable, or its references are invalid.
        case profileUndecodable
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The gRPC status a server answers with.
    public var statusCode: UInt32 {
        switch kind {
        case .requestUndecodable, .invalidUTF8: GRPCStatusCode.internal
        case .requestTooLarge: GRPCStatusCode.resourceExhausted
        case .missingTenant, .invalidProfileID, .gzipHeader, .gzipCorrupt, .decompressedSizeExceeded,
             .compressionRatioExceeded, .profileUndecodable:
            GRPCStatusCode.invalidArgument
        }
    }

    public var description: String { "\(kind) (grpc-status \(statusCode)): \(message)" }
}
