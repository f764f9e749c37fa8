import BinaryCoding

/// What the pushes look like: how many tenants, services, values of the extra label and
/// shards; each push picks one of each uniformly at random.
public struct WorkloadShape: Sendable, Codable, Equatable {
    public var tenants: Int
    public var services: Int
    /// Distinct values of `extraLabelName`; 0 sends no extra label.
    public var labelCardinality: Int
    public var extraLabelName: String
    public var shards: Int
    public var compression: ProfileCompression
    /// Profiles as a Pyroscope distributor forwards them (`PprofProfile.distributorNormalized`).
    public var normalized: Bool

    public init(tenants: Int = 1, services: Int = 4, labelCardinality: Int = 0, extraLabelName: String = "instance",
                shards: Int = 4, compression: ProfileCompression = .gzip, normalized: Bool = false) {
        precondition(tenants > 0 && services > 0 && labelCardinality >= 0 && shards > 0, "workload counts must be positive")
        self.tenants = tenants
        self.services = services
        self.labelCardinality = labelCardinality
        self.extraLabelName = extraLabelName
        self.shards = shards
        self.compression = compression
        self.normalized = normalized
    }

    /// One tenant is `anonymous` (the default of a single-tenant Pyroscope); more are `tenant-k`.
    public func tenantName(_ k: Int) -> ByteString { tenants == 1 ? "anonymous" : ByteString("tenant-\(k)") }
}

/// A small fast generator (SplitMix64) per loop: choices and profile ids need no
/// cryptographic quality, and `SystemRandomNumberGenerator` costs a syscall.
public struct SplitMix: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One push as sent: the request bytes and what the statistics count for it.
public struct BuiltPush {
    public var shard: UInt32
    /// The `profile` field as sent (compressed when gzip).
    public var sentProfileBytes: Int
    /// The raw pprof size.
    public var rawProfileBytes: Int
    /// `profile_id` as the profiles table's `ID` column holds it (the 16 bytes big-endian).
    public var profileID: UInt128
}

/// Builds `segmentwriter.v1.PushRequest` messages into one reused buffer (ingest-and-ops.md
/// §1.2, Go's field order): tenant, labels sorted by name as the distributor sends them
/// (`__delta__`, `__name__`, the extra label, `service_name`), profile, a fresh random
/// 16-byte id (UUID v4 bits, like `uuid.New()`), shard.
public struct PushBuilder {
    public let shape: WorkloadShape
    private var rng: SplitMix
    private let tenantNames: [ByteString]
    private let serviceNames: [ByteString]
    private let extraValues: [ByteString]
    private let extraName: ByteString
    public private(set) var writer = ByteWriter()

    public init(shape: WorkloadShape, seed: UInt64) {
        self.shape = shape
        rng = SplitMix(seed: seed)
        tenantNames = (0 ..< shape.tenants).map(shape.tenantName)
        serviceNames = (0 ..< shape.services).map { ByteString("loadgen-svc-\($0)") }
        extraValues = (0 ..< shape.labelCardinality).map { ByteString("v\($0)") }
        extraName = ByteString(shape.extraLabelName)
        precondition(shape.labelCardinality == 0 || (extraName > "__name__" && extraName < "service_name"),
                     "the extra label name must sort between __name__ and service_name")
        writer.bytes.reserveCapacity(1 << 20)
    }

    /// Builds the next push into `writer`, replacing what it held.
    public mutating func build(from payloads: PayloadSet) -> BuiltPush {
        let index = Int(rng.next() % UInt64(payloads.count))
        let shard = UInt32(rng.next() % UInt64(shape.shards))
        let tenant = tenantNames[Int(rng.next() % UInt64(tenantNames.count))]
        let service = serviceNames[Int(rng.next() % UInt64(serviceNames.count))]
        writer.bytes.removeAll(keepingCapacity: true)
        writer.appendBytesField(1, tenant.bytes)
        appendLabel("__delta__", "false")
        appendLabel("__name__", payloads.metricNames[index])
        if !extraValues.isEmpty { appendLabel(extraName, extraValues[Int(rng.next() % UInt64(extraValues.count))]) }
        appendLabel("service_name", service)
        let profile = payloads.profiles[index]
        writer.appendBytesField(4, profile)
        var id = (rng.next(), rng.next())
        let profileID = withUnsafeMutableBytes(of: &id) { raw in
            raw[6] = raw[6] & 0x0F | 0x40  // version 4
            raw[8] = raw[8] & 0x3F | 0x80  // RFC 4122 variant
            writer.appendTag(5, .lengthDelimited)
            writer.appendUvarint(16)
            writer.append(UnsafeRawBufferPointer(raw))
            return raw.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
        }
        if shard != 0 { writer.appendVarintField(6, UInt64(shard)) }
        return BuiltPush(shard: shard, sentProfileBytes: profile.count, rawProfileBytes: payloads.rawSizes[index],
                         profileID: profileID)
    }

    private mutating func appendLabel(_ name: ByteString, _ value: ByteString) {
        writer.appendMessageField(2) { w in
            w.appendBytesField(1, name.bytes)
            w.appendBytesField(2, value.bytes)
        }
    }
}
