import Membership
import Runtime
import Yams

/// Builds the configuration as Pyroscope does: defaults, then `-config.file` YAML, then flags.
/// Flags follow Go's `flag` package: `-name=value`, `-name value`, `--name`, bare `-bool`.
public enum ConfigLoader {
    public struct Result: Sendable {
        public var config: SegmentWriterConfig
        /// Pyroscope settings accepted but without effect here (logged at start-up).
        public var ignored: [String]
    }

    public static func load(
        arguments: [String],
        environment: [String: String] = [:],
        readFile: (String) throws -> String
    ) throws(ConfigError) -> Result {
        let flags = try parseFlags(arguments)
        var config = SegmentWriterConfig()
        var ignored: [String] = []
        if let path = flags.first(where: { $0.name == "config.file" })?.value {
            let text: String
            do { text = try readFile(path) } catch { throw .invalid("-config.file: cannot read \(path): \(error)") }
            let expand = flags.contains { $0.name == "config.expand-env" && Setting.parseBool($0.value) == true }
            try applyYAML(expand ? expandEnvironment(text, environment) : text, to: &config, ignored: &ignored)
        }
        for flag in flags where flag.name != "config.file" && flag.name != "config.expand-env" {
            if let setting = Setting.all.first(where: { $0.flag == flag.name }) {
                try setting.apply(flag.value, to: &config, source: "flag -\(flag.name)")
            } else if Setting.isIgnored(flag: flag.name) {
                ignored.append("-\(flag.name)")
            } else {
                throw .invalid("flag provided but not defined: -\(flag.name)")
            }
        }
        try validate(config)
        try resolveS3Credentials(&config, environment: environment, readFile: readFile)
        return Result(config: config, ignored: ignored)
    }

    public static func usage() -> String {
        let defaults = SegmentWriterConfig()
        var lines = ["Usage of segment-writer:", "  -config.file string", "    \tYAML configuration file (Pyroscope keys).",
                     "  -config.expand-env", "    \tExpand ${VAR} references in the configuration file."]
        for s in Setting.all {
            lines.append("  -\(s.flag) \(s.isBool ? "" : "value")".trimmingTrailingSpace)
            lines.append("    \t\(s.help) (default \(s.render(defaults)); YAML \(s.yamlPath.joined(separator: ".")))")
        }
        return lines.joined(separator: "\n")
    }

    struct Flag: Equatable { var name: String; var value: String }

    static func parseFlags(_ arguments: [String]) throws(ConfigError) -> [Flag] {
        var flags: [Flag] = []
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if arg == "--" { break }
            guard arg.hasPrefix("-"), arg.count > 1 else {
                throw .invalid("unexpected argument \"\(arg)\": flags start with -")
            }
            var body = arg.dropFirst(arg.hasPrefix("--") ? 2 : 1)
            guard !body.isEmpty, !body.hasPrefix("-"), !body.hasPrefix("=") else { throw .invalid("bad flag syntax: \(arg)") }
            if body == "help" || body == "h" { throw .helpRequested(usage: usage()) }
            if let eq = body.firstIndex(of: "=") {
                flags.append(Flag(name: String(body[..<eq]), value: String(body[body.index(after: eq)...])))
                continue
            }
            let name = String(body)
            body = ""
            let isBool = Setting.all.first { $0.flag == name }?.isBool ?? (name == "config.expand-env")
            if isBool {
                flags.append(Flag(name: name, value: "true"))
            } else {
                guard i < arguments.count else { throw .invalid("flag needs an argument: -\(name)") }
                flags.append(Flag(name: name, value: arguments[i]))
                i += 1
            }
        }
        return flags
    }

    static func applyYAML(_ text: String, to config: inout SegmentWriterConfig, ignored: inout [String]) throws(ConfigError) {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw .invalid("-config.file: invalid YAML: \(error)") }
        guard let root else { return }
        guard root.mapping != nil else { throw .invalid("-config.file: the top level must be a mapping") }
        var used = Set<[String]>()
        for setting in Setting.all {
            guard let node = lookup(root, setting.yamlPath) else { continue }
            if setting.isList, let items = node.sequence {
                for item in items {
                    guard let scalar = item.scalar else {
                        throw .invalid("-config.file: \(setting.yamlPath.joined(separator: ".")) must be a list of scalars")
                    }
                    try setting.apply(scalar.string, to: &config, source: "\(setting.yamlPath.joined(separator: ".")) in -config.file")
                }
                used.insert(setting.yamlPath)
                continue
            }
            guard let scalar = node.scalar else {
                throw .invalid("-config.file: \(setting.yamlPath.joined(separator: ".")) must be a scalar")
            }
            try setting.apply(scalar.string, to: &config, source: "\(setting.yamlPath.joined(separator: ".")) in -config.file")
            used.insert(setting.yamlPath)
        }
        collectUnused(root, path: [], used: used, into: &ignored)
    }

    private static func lookup(_ node: Node, _ path: [String]) -> Node? {
        var current = node
        for key in path {
            guard let next = current.mapping?[Node(key)] else { return nil }
            current = next
        }
        return current
    }

    /// Leaf keys under the sections this process reads that no setting consumed. Other
    /// top-level sections configure other Pyroscope components and are skipped silently.
    private static func collectUnused(_ node: Node, path: [String], used: Set<[String]>, into ignored: inout [String]) {
        guard let mapping = node.mapping else {
            let ours = Setting.all.contains { $0.yamlPath.first == path.first }
            if ours && !used.contains(path) { ignored.append(path.joined(separator: ".")) }
            return
        }
        for (key, value) in mapping {
            collectUnused(value, path: path + [key.string ?? "?"], used: used, into: &ignored)
        }
    }

    static func expandEnvironment(_ text: String, _ environment: [String: String]) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                rest = rest[start.lowerBound...]
                break
            }
            let name = rest[start.upperBound ..< end]
            // ${VAR} or ${VAR:default}, as Pyroscope's -config.expand-env.
            let parts = name.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let fallback = parts.count > 1 ? String(parts[1]) : ""
            out += environment[key] ?? fallback
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    static func validate(_ c: SegmentWriterConfig) throws(ConfigError) {
        func check(_ ok: Bool, _ message: String) throws(ConfigError) { if !ok { throw .invalid(message) } }
        try check((1 ... 65535).contains(c.server.grpcListenPort) || c.server.grpcListenPort == 0, "-server.grpc-listen-port: \(c.server.grpcListenPort) is not a port")
        try check((1 ... 65535).contains(c.server.httpListenPort) || c.server.httpListenPort == 0, "-server.http-listen-port: \(c.server.httpListenPort) is not a port")
        for (flag, address) in [("-server.grpc-listen-address", c.server.grpcListenAddress),
                                ("-server.http-listen-address", c.server.httpListenAddress)] {
            let host = SegmentWriterServer.listenHost(address)
            try check(ListeningSocket.takes(host: host),
                      "\(flag): \"\(address)\" is not an IP address, localhost or empty (every interface)")
        }
        // A gRPC message's length prefix is 32 bits.
        try check((1 ... Int(UInt32.max)).contains(c.server.grpcMaxRecvMsgSizeBytes),
                  "-server.grpc-max-recv-msg-size-bytes must be between 1 and \(UInt32.max)")
        try check(c.server.grpcMaxConcurrentStreams > 0, "-server.grpc-max-concurrent-streams must be positive")
        try check(c.segmentWriter.segmentDurationNs > 0, "-segment-writer.segment-duration must be positive")
        try check(c.segmentWriter.uploadMaxRetries >= 0, "-segment-writer.upload-max-retries must not be negative")
        try check(c.segmentWriter.eventLoops >= 0, "-segment-writer.event-loops must not be negative")
        try check(c.segmentWriter.segmentMaxBytes > 0, "-segment-writer.segment-max-bytes must be positive")
        try check(c.segmentWriter.memoryBudgetBytes >= c.segmentWriter.segmentMaxBytes,
                  "-segment-writer.memory-budget-bytes must be at least -segment-writer.segment-max-bytes")
        try check((1 ... LoopTimerBudget.shardsMaxLimit).contains(c.segmentWriter.shardsMax),
                  "-segment-writer.max-shards must be between 1 and \(LoopTimerBudget.shardsMaxLimit)")
        try check(c.limits.maxProfileSizeBytes >= 0, "-validation.max-profile-size-bytes must not be negative")
        // Each shard's arena is address space for 64 profiles of this size (`accumulatorLimits`).
        try check(c.limits.maxProfileSizeBytes <= SegmentWriterConfig.profileBytesCeiling,
                  "-validation.max-profile-size-bytes must be at most \(SegmentWriterConfig.profileBytesCeiling) (256 MiB)")
        try check(c.segmentWriter.segmentMaxBytes <= SegmentWriterConfig.segmentBytesCeiling,
                  "-segment-writer.segment-max-bytes must be at most \(SegmentWriterConfig.segmentBytesCeiling) (4 GiB)")
        try check(["debug", "info", "warn", "error"].contains(c.logLevel), "-log.level: \"\(c.logLevel)\" is not debug, info, warn or error")
        try check(["segment-writer", "all"].contains(c.target), "-target: this process runs only the segment-writer, not \"\(c.target)\"")
        try check(c.ring.store == "memberlist",
                  "-segment-writer.store: \"\(c.ring.store)\" is not supported: this writer publishes its ring entry over memberlist only")
        try check(c.ring.heartbeatPeriodNs > 0, "-segment-writer.heartbeat-period must be positive")
        try check((1 ... 512).contains(c.ring.numTokens), "-segment-writer.num-tokens must be between 1 and 512")
        try check((0 ... 65535).contains(c.ring.instancePort), "-segment-writer.lifecycler.port: \(c.ring.instancePort) is not a port")
        try check(c.memberlist.clusterLabel.utf8.count <= 255, "-memberlist.cluster-label must be at most 255 bytes")
        try check(!c.memberlist.tlsEnabled, "-memberlist.tls-enabled: TLS to memberlist members is not supported by this writer")
        _ = try c.metastore.tlsOptions()
        for entry in c.memberlist.join {
            try check(JoinMember(entry) != nil,
                      "-memberlist.join: \"\(entry)\" is not host:port, dns+host:port or a host (SRV lookups, dnssrv+ and dnssrvnoa+, are not supported)")
        }
        if c.storage.backend == .s3 {
            try validate(c.storage.s3)
            _ = try c.storage.s3.serverSideEncryption()
            // Upstream's `Config.Validate` (pkg/objstore/providers/s3/config.go).
            try check(!c.storage.s3.forcePathStyle || c.storage.s3.bucketLookupType != .virtualHostedStyle,
                      "cannot use s3.force-path-style = true and s3.bucket-lookup-type = virtual-hosted-style at the same time")
            try check(!c.storage.s3.nativeAWSAuthEnabled || c.storage.s3.accessKeyID.isEmpty,
                      "-storage.s3.native-aws-auth-enabled and -storage.s3.access-key-id are mutually exclusive")
            // thanos objstore's validate: a half pair is a mistake, not a request for the credential chain.
            try check(c.storage.s3.accessKeyID.isEmpty == c.storage.s3.secretAccessKey.isEmpty,
                      "-storage.s3.access-key-id and -storage.s3.secret-access-key go together: set both, or neither to take credentials from the environment or the shared credentials file")
        } else {
            try check(!c.storage.filesystemDir.isEmpty, "-storage.filesystem.dir must not be empty")
        }
    }

    private static func validate(_ s3: SegmentWriterConfig.S3) throws(ConfigError) {
        guard !s3.endpoint.isEmpty else { throw .invalid("-storage.s3.endpoint is required with -storage.backend=s3") }
        guard !s3.bucketName.isEmpty else { throw .invalid("-storage.s3.bucket-name is required with -storage.backend=s3") }
        // These reach the Host and Authorization headers, where a CR or LF would split the request.
        let headerValues = [("-storage.s3.endpoint", s3.endpoint), ("-storage.s3.bucket-name", s3.bucketName),
                            ("-storage.s3.region", s3.region), ("-storage.s3.access-key-id", s3.accessKeyID),
                            ("-storage.s3.sse.kms-key-id", s3.sseKMSKeyID)]
        for (flag, value) in headerValues where hasControlCharacter(value) {
            throw .invalid("\(flag) contains a control character such as a newline (a value read from a file keeps its trailing newline)")
        }
    }

    static func hasControlCharacter(_ value: String) -> Bool { value.utf8.contains { $0 < 0x20 || $0 == 0x7F } }
}

private extension String {
    var trimmingTrailingSpace: String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
