import BinaryCoding

/// `grpc-timeout` (gRPC PROTOCOL-HTTP2: TimeoutValue of at most 8 ASCII digits, then a unit
/// H, M, S, m, u or n). Values are nanoseconds; the connection reads no clock, so the
/// application turns a timeout into a deadline with its own `now`.
public enum GRPCTimeout {
    public static let maxDigits = 8

    /// Nanoseconds, saturating at `UInt64.max`; `nil` for a malformed value.
    public static func parse(_ value: ByteString) -> UInt64? {
        let b = value.bytes
        guard b.count >= 2, b.count <= maxDigits + 1 else { return nil }
        var n: UInt64 = 0
        for c in b.dropLast() {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            n = n * 10 + UInt64(c - UInt8(ascii: "0"))
        }
        guard let unit = nanosecondsPerUnit(b[b.count - 1]) else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? UInt64.max : product
    }

    /// The deadline for a call received at `nowNs` (monotonic clock of the caller).
    public static func deadline(nowNs: UInt64, timeoutNs: UInt64) -> UInt64 {
        let (sum, overflow) = nowNs.addingReportingOverflow(timeoutNs)
        return overflow ? UInt64.max : sum
    }

    /// The shortest exact-or-rounded-up encoding, as grpc-go writes it.
    public static func encode(nanoseconds ns: UInt64) -> ByteString {
        let maxValue: UInt64 = 99_999_999
        for (unit, perUnit) in [("n", UInt64(1)), ("u", 1_000), ("m", 1_000_000), ("S", 1_000_000_000),
                                ("M", 60_000_000_000), ("H", 3_600_000_000_000)] {
            let value = ns / perUnit + (ns % perUnit == 0 ? 0 : 1)
            if value <= maxValue { return ByteString("\(value)\(unit)") }
        }
        return ByteString("\(maxValue)H")
    }

    private static func nanosecondsPerUnit(_ c: UInt8) -> UInt64? {
        switch c {
        case UInt8(ascii: "H"): return 3_600_000_000_000
        case UInt8(ascii: "M"): return 60_000_000_000
        case UInt8(ascii: "S"): return 1_000_000_000
        case UInt8(ascii: "m"): return 1_000_000
        case UInt8(ascii: "u"): return 1_000
        case UInt8(ascii: "n"): return 1
        default: return nil
        }
    }
}
