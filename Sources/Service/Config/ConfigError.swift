/// Why the process cannot start with the given configuration (or that `-help` was asked).
public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case helpRequested(usage: String)
    case invalid(String)

    public var description: String {
        switch self {
        case .helpRequested(let usage): usage
        case .invalid(let message): message
        }
    }
}
