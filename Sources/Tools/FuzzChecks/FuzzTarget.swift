/// An input as a socket hands it over: its first byte picks the sizes of the reads the rest
/// arrives in (so that frames and messages span reads in every way).
struct SocketReads: Sequence, IteratorProtocol {
    private var rest: UnsafeRawBufferPointer
    private var size: Int

    init(_ bytes: UnsafeRawBufferPointer) {
        rest = bytes.isEmpty ? bytes : UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        size = 1 + Int(bytes.first ?? 0) * 37
    }

    mutating func next() -> UnsafeRawBufferPointer? {
        guard !rest.isEmpty else { return nil }
        let read = UnsafeRawBufferPointer(rebasing: rest.prefix(size))
        rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(read.count))
        size = size * 7 % 4093 + 1
        return read
    }
}

/// A broken promise: what a fuzzer reports as a crash.
public struct FuzzViolation: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// The checks a fuzzing run can drive, by what its input bytes are.
public enum FuzzInput: String, CaseIterable, Sendable {
    /// A push's pprof bytes (`IngestCheck`).
    case profile
    /// A whole `PushRequest` message (`IngestCheck`).
    case push
    /// Several pushes' pprof bytes for several datasets into one segment (`IngestCheck`).
    case sequence
    /// A client's bytes on a gRPC connection (`GRPCServerCheck`).
    case grpc
    /// A metastore's answers to an AddBlock call (`GRPCClientCheck`).
    case metastore
    /// A client's bytes on the operational HTTP port (`HTTP1RequestCheck`).
    case http1
    /// A memberlist member's push/pull reply (`MemberlistReplyCheck`).
    case memberlist
    /// An S3 endpoint's answers (`S3ResponseCheck`).
    case s3

    /// The ingest checks push a valid seed profile before each input.
    public var pushesProfiles: Bool { self == .profile || self == .push || self == .sequence }
}

/// One check, ready for input after input.
public enum FuzzTarget {
    case ingest(IngestCheck)
    case grpc(GRPCServerCheck)
    case metastore(GRPCClientCheck)
    case http1(HTTP1RequestCheck)
    case memberlist(MemberlistReplyCheck)
    case s3(S3ResponseCheck)

    /// `seedProfile`: the valid profile the ingest checks push before each input (unread by the others).
    public init(_ input: FuzzInput, seedProfile: [UInt8]) throws(FuzzViolation) {
        switch input {
        case .profile: self = .ingest(try IngestCheck(seedProfile: seedProfile, input: .profile))
        case .push: self = .ingest(try IngestCheck(seedProfile: seedProfile, input: .push))
        case .sequence: self = .ingest(try IngestCheck(seedProfile: seedProfile, input: .profileSequence))
        case .grpc: self = .grpc(GRPCServerCheck())
        case .metastore: self = .metastore(GRPCClientCheck())
        case .http1: self = .http1(HTTP1RequestCheck())
        case .memberlist: self = .memberlist(MemberlistReplyCheck())
        case .s3: self = .s3(S3ResponseCheck())
        }
    }

    /// Runs the check on `bytes`; what happened, in words.
    @discardableResult
    public func run(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) -> String {
        switch self {
        case .ingest(let check): "\(try check.check(bytes))"
        case .grpc(let check): "\(try check.check(bytes))"
        case .metastore(let check): "\(try check.check(bytes))"
        case .http1(let check): "\(try check.check(bytes))"
        case .memberlist(let check): check.check(bytes)
        case .s3(let check): "\(try check.check(bytes))"
        }
    }

    /// A fuzzing run's first inputs for `input`, made of the corpus `profiles`: the files
    /// themselves, as push messages, in runs of three, grpc-go conversations pushing the small ones at several
    /// read sizes (a window of 64 KiB carries several); or, made of nothing, requests to the
    /// operational port, a metastore's answers, memberlist replies and S3 answers.
    public static func seeds(for input: FuzzInput, profiles: [(name: String, bytes: [UInt8])]) -> [(name: String, bytes: [UInt8])] {
        switch input {
        case .profile:
            return profiles
        case .push:
            return profiles.map { ($0.name, IngestCheck.push(profile: $0.bytes)) }
        case .sequence:
            // Runs of three of the smaller files, each for another tenant and service.
            let small = profiles.filter { $0.bytes.count <= 64 << 10 }
            return small.indices.map { i in
                let run = (0 ..< 3).map { k in [UInt8(truncatingIfNeeded: i + 5 * k)] + small[(i + k) % small.count].bytes }
                return ("sequence-\(i)", Array(run.joined(separator: IngestCheck.sequenceSeparator)))
            }
        case .grpc:
            let pushes = profiles.map { IngestCheck.push(profile: $0.bytes) }.filter { $0.count <= 8 << 10 }
            return [false, true].flatMap { gzip in
                [UInt8(0), 3, 200].map { readSize in
                    ("conversation-\(gzip ? "gzip" : "identity")-\(readSize)", GRPCServerCheck.clientBytes(pushing: pushes, gzip: gzip, readSize: readSize))
                }
            }
        case .metastore:
            return GRPCClientCheck.seeds
        case .http1:
            return HTTP1RequestCheck.seeds
        case .memberlist:
            return MemberlistReplyCheck.seeds
        case .s3:
            return S3ResponseCheck.seeds
        }
    }
}
