import BinaryCoding

/// `grpc.health.v1.Health/Check` messages (grpc/grpc-proto health.proto):
/// HealthCheckRequest { string service = 1 }, HealthCheckResponse { ServingStatus status = 1 }.
public enum GRPCHealth {
    public static let checkPath: ByteString = "/grpc.health.v1.Health/Check"
    public static let watchPath: ByteString = "/grpc.health.v1.Health/Watch"

    public enum ServingStatus: UInt8, Sendable {
        case unknown = 0, serving = 1, notServing = 2, serviceUnknown = 3
    }

    /// The service name asked about ("" = the whole server).
    public static func decodeRequest(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> ByteString {
        var r = ProtobufReader(bytes)
        var service = ByteString.empty
        while let field = try r.nextField() {
            if field.number == 1 && field.wire == .lengthDelimited {
                service = ByteString(try r.readLengthDelimited())
            } else {
                try r.skip(field.wire)
            }
        }
        return service
    }

    public static func appendResponse(_ status: ServingStatus, into w: inout ByteWriter) {
        if status != .unknown { w.appendVarintField(1, UInt64(status.rawValue)) }
    }

    public static func decodeResponse(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> ServingStatus {
        var r = ProtobufReader(bytes)
        var status = ServingStatus.unknown
        while let field = try r.nextField() {
            if field.number == 1 && field.wire == .varint {
                status = ServingStatus(rawValue: UInt8(clamping: try r.readVarint())) ?? .unknown
            } else {
                try r.skip(field.wire)
            }
        }
        return status
    }
}
