/// SETTINGS parameter identifiers (RFC 9113 §6.5.2); unknown ones are ignored.
public struct SettingID: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let headerTableSize = SettingID(rawValue: 0x1)
    public static let enablePush = SettingID(rawValue: 0x2)
    public static let maxConcurrentStreams = SettingID(rawValue: 0x3)
    public static let initialWindowSize = SettingID(rawValue: 0x4)
    public static let maxFrameSize = SettingID(rawValue: 0x5)
    public static let maxHeaderListSize = SettingID(rawValue: 0x6)
}

/// One side's SETTINGS values. Defaults are RFC 9113 §6.5.2's initial values, which hold until
/// the peer's first SETTINGS frame arrives.
public struct HTTP2Settings: Hashable, Sendable {
    public static let maxWindowSize = 0x7fff_ffff
    public static let minFrameSize = 16_384
    public static let maxFrameSizeLimit = 0xff_ffff

    public var headerTableSize: Int = 4096
    public var enablePush: Bool = true
    /// `nil`: unlimited (the RFC's initial value).
    public var maxConcurrentStreams: Int? = nil
    public var initialWindowSize: Int = 65_535
    public var maxFrameSize: Int = 16_384
    /// `nil`: unlimited (the RFC's initial value).
    public var maxHeaderListSize: Int? = nil

    public init() {}

    /// Applies one received parameter, validating it as RFC 9113 §6.5.2 requires.
    mutating func apply(_ id: SettingID, _ value: UInt32) throws(HTTP2ProtocolError) {
        switch id {
        case .headerTableSize: headerTableSize = Int(value)
        case .enablePush:
            guard value <= 1 else { throw .connection(.protocolError, "SETTINGS_ENABLE_PUSH \(value)") }
            enablePush = value == 1
        case .maxConcurrentStreams: maxConcurrentStreams = Int(value)
        case .initialWindowSize:
            guard Int(value) <= Self.maxWindowSize else { throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE \(value)") }
            initialWindowSize = Int(value)
        case .maxFrameSize:
            guard (Self.minFrameSize...Self.maxFrameSizeLimit).contains(Int(value)) else {
                throw .connection(.protocolError, "SETTINGS_MAX_FRAME_SIZE \(value)")
            }
            maxFrameSize = Int(value)
        case .maxHeaderListSize: maxHeaderListSize = Int(value)
        default: break
        }
    }

    /// The parameters to announce: every value, so the peer needs no knowledge of defaults.
    var parameters: [(SettingID, UInt32)] {
        var p: [(SettingID, UInt32)] = [(.headerTableSize, UInt32(headerTableSize)), (.enablePush, enablePush ? 1 : 0)]
        if let m = maxConcurrentStreams { p.append((.maxConcurrentStreams, UInt32(m))) }
        p.append((.initialWindowSize, UInt32(initialWindowSize)))
        p.append((.maxFrameSize, UInt32(maxFrameSize)))
        if let m = maxHeaderListSize { p.append((.maxHeaderListSize, UInt32(m))) }
        return p
    }
}
