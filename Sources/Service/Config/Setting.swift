/// One configurable value: its Pyroscope flag, its YAML path, and where it lives in the config.
/// One table drives flags, YAML and `-help`, so the three can never disagree.
struct Setting: Sendable {
    typealias Config = SegmentWriterConfig

    enum Value: Sendable {
        case int(WritableKeyPath<Config, Int> & Sendable)
        case double(WritableKeyPath<Config, Double> & Sendable)
        case bool(WritableKeyPath<Config, Bool> & Sendable)
        case string(WritableKeyPath<Config, String> & Sendable)
        /// Repeatable: each flag (or YAML list item) appends, as dskit's `flagext.StringSlice`.
        case stringList(WritableKeyPath<Config, [String]> & Sendable)
        case duration(WritableKeyPath<Config, Int64> & Sendable)
        case backend
        case bucketLookup
    }

    let flag: String
    let yamlPath: [String]
    let value: Value
    let help: String

    init(_ flag: String, _ yaml: String, _ value: Value, _ help: String) {
        self.flag = flag
        self.yamlPath = yaml.split(separator: ".").map(String.init)
        self.value = value
        self.help = help
    }

    var isBool: Bool { if case .bool = value { true } else { false } }
    var isList: Bool { if case .stringList = value { true } else { false } }

    /// Parses `text` (Go flag syntax) into `config`; the error names the setting.
    func apply(_ text: String, to config: inout Config, source: String) throws(ConfigError) {
        func invalid(_ expected: String) -> ConfigError {
            .invalid("invalid value \"\(text)\" for \(source): expected \(expected)")
        }
        switch value {
        case .int(let path):
            guard let v = Int(text) else { throw invalid("an integer") }
            config[keyPath: path] = v
        case .double(let path):
            guard let v = Double(text) else { throw invalid("a number") }
            config[keyPath: path] = v
        case .bool(let path):
            guard let v = Self.parseBool(text) else { throw invalid("true or false") }
            config[keyPath: path] = v
        case .string(let path):
            config[keyPath: path] = text
        case .stringList(let path):
            config[keyPath: path].append(text)
        case .duration(let path):
            guard let v = GoDuration.parseNanoseconds(text) else { throw invalid("a duration such as 500ms or 2s") }
            // Every duration here is a period or a timeout; where upstream gives 0 a meaning, the setting's help says it.
            guard v >= 0 else { throw .invalid("invalid value \"\(text)\" for \(source): a duration must not be negative") }
            config[keyPath: path] = v
        case .backend:
            guard let v = Config.Storage.Backend(rawValue: text) else {
                throw invalid(Config.Storage.Backend.allCases.map(\.rawValue).joined(separator: " or "))
            }
            config.storage.backend = v
        case .bucketLookup:
            guard let v = Config.S3.BucketLookup(rawValue: text) else {
                throw invalid(Config.S3.BucketLookup.allCases.map(\.rawValue).joined(separator: ", "))
            }
            config.storage.s3.bucketLookupType = v
        }
    }

    func render(_ config: Config) -> String {
        switch value {
        case .int(let path): String(config[keyPath: path])
        case .double(let path): String(config[keyPath: path])
        case .bool(let path): String(config[keyPath: path])
        case .string(let path): "\"\(config[keyPath: path])\""
        case .stringList(let path): "[\(config[keyPath: path].joined(separator: ", "))]"
        case .duration(let path): GoDuration.format(nanoseconds: config[keyPath: path])
        case .backend: config.storage.backend.rawValue
        case .bucketLookup: config.storage.s3.bucketLookupType.rawValue
        }
    }

    /// Go `strconv.ParseBool`.
    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }
}
