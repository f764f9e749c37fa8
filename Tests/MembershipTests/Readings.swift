import BinaryCoding
import Testing
@testable import Membership

/// Test-side readers of what `PushPullMessage` writes, written from the protocol definitions
/// (dskit TCP transport, memberlist push/pull, dskit `KeyValuePair`, snappy, `ring.proto`).
struct PushPullReading {
    struct Pair { var key = "", value: [UInt8] = [], codec = "", updateTimeMillis: Int64 = 0 }

    var label: String?
    var header: [UInt8] = []
    var userStateLengthBytes: [UInt8] = []
    var pairs: [Pair] = []

    init(_ bytes: [UInt8]) throws {
        var i = 0
        func take(_ n: Int) throws -> [UInt8] {
            guard n <= bytes.count - i else { throw DecodeError(.truncated, at: i, "message cut") }
            defer { i += n }
            return Array(bytes[i ..< i + n])
        }
        #expect(try take(1) == [2]) // dskit stream
        var type = try take(1)[0]
        if type == 244 {
            let n = Int(try take(1)[0])
            label = String(decoding: try take(n), as: UTF8.self)
            type = try take(1)[0]
        }
        #expect(type == 6) // pushPullMsg
        let headerStart = i
        #expect(try take(1) == [0x83])
        #expect(try take(6) == [0xA5] + Array("Nodes".utf8))
        #expect(try take(1) == [0x00])
        #expect(try take(13) == [0xAC] + Array("UserStateLen".utf8))
        let lengthStart = i
        let marker = try take(1)[0]
        var userStateLength = 0
        switch marker {
        case 0 ..< 0x80: userStateLength = Int(marker)
        case 0xCC: userStateLength = Int(try take(1)[0])
        case 0xCD: userStateLength = try take(2).reduce(0) { $0 << 8 | Int($1) }
        case 0xCE: userStateLength = try take(4).reduce(0) { $0 << 8 | Int($1) }
        default: Issue.record("unexpected msgpack uint marker \(marker)")
        }
        userStateLengthBytes = Array(bytes[lengthStart ..< i])
        #expect(try take(5) == [0xA4] + Array("Join".utf8))
        #expect(try take(1) == [0xC2])
        header = Array(bytes[headerStart ..< i])
        #expect(bytes.count - i == userStateLength)
        while i < bytes.count {
            let n = try take(4).reduce(0) { $0 << 8 | Int($1) }
            let body = try take(n)
            var pair = Pair()
            try body.withUnsafeBytes { raw in
                var r = ProtobufReader(raw)
                while let (field, _) = try r.nextField() {
                    switch field {
                    case 1: pair.key = String(decoding: try r.readLengthDelimited(), as: UTF8.self)
                    case 2: pair.value = Array(try r.readLengthDelimited())
                    case 3: pair.codec = String(decoding: try r.readLengthDelimited(), as: UTF8.self)
                    case 5: pair.updateTimeMillis = Int64(bitPattern: try r.readVarint())
                    default: Issue.record("unexpected KeyValuePair field \(field)")
                    }
                }
            }
            pairs.append(pair)
        }
    }
}

struct RingDescReading {
    var instances: [String: InstanceDesc] = [:]
    var stateFieldPresent = false

    init(snappyLiterals bytes: [UInt8]) throws {
        var i = 0
        var length = 0, shift = 0
        while true {
            let b = bytes[i]; i += 1
            length |= Int(b & 0x7F) << shift
            shift += 7
            if b < 0x80 { break }
        }
        var out: [UInt8] = []
        while i < bytes.count {
            let tag = bytes[i]; i += 1
            #expect(tag & 3 == 0, "literal elements only")
            var n = Int(tag >> 2)
            if n >= 60 {
                let extra = n - 59
                n = bytes[i ..< i + extra].reversed().reduce(0) { $0 << 8 | Int($1) }
                i += extra
            }
            n += 1
            out += bytes[i ..< i + n]
            i += n
        }
        #expect(out.count == length)
        try self.init(protobuf: out)
    }

    init(protobuf: [UInt8]) throws {
        try protobuf.withUnsafeBytes { raw in
            var r = ProtobufReader(raw)
            while let (field, _) = try r.nextField() {
                #expect(field == 1)
                var entry = ProtobufReader(try r.readLengthDelimited())
                var key = "", value = InstanceDesc(id: "", addr: "", timestamp: 0, state: .active, tokens: [], registeredTimestamp: 0)
                while let (f, _) = try entry.nextField() {
                    if f == 1 { key = String(decoding: try entry.readLengthDelimited(), as: UTF8.self); continue }
                    #expect(f == 2)
                    var d = ProtobufReader(try entry.readLengthDelimited())
                    while let (g, _) = try d.nextField() {
                        switch g {
                        case 1: value.addr = String(decoding: try d.readLengthDelimited(), as: UTF8.self)
                        case 2: value.timestamp = Int64(bitPattern: try d.readVarint())
                        case 3: value.state = InstanceDesc.State(rawValue: try d.readVarint())!; stateFieldPresent = true
                        case 6:
                            var packed = ByteReader(try d.readLengthDelimited())
                            while !packed.isAtEnd { value.tokens.append(UInt32(try packed.readUvarint())) }
                        case 7: value.zone = String(decoding: try d.readLengthDelimited(), as: UTF8.self)
                        case 8: value.registeredTimestamp = Int64(bitPattern: try d.readVarint())
                        case 9: value.id = String(decoding: try d.readLengthDelimited(), as: UTF8.self)
                        default: Issue.record("unexpected InstanceDesc field \(g)")
                        }
                    }
                }
                instances[key] = value
            }
        }
    }
}
