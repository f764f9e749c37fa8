import BinaryCoding
import Pprof
import Testing
import TestSupport

/// ingest-and-ops.md §1.7: the 78-byte pprof and the 246-byte PushRequest carrying it.
enum SpecExample {
    static let pprof = hexBytes("""
        0a040801100212090a0101120480ade20422060801220208012a040801100332003203637075
        320b6e616e6f7365636f6e647332046d61696e488080a8b1e39fe7cb175a04080110026080ade204
        """)
    static let request = hexBytes("""
        0a09616e6f6e796d6f7573
        12170a085f5f6e616d655f5f120b70726f636573735f637075
        12160a0c736572766963655f6e616d6512066d792d617070
        224e
        """) + pprof + hexBytes("""
        2a100f8fad5bd9cb469fa16570867728950e
        300a
        3a540a187079726f73636f70652e696e676573742e73616d706c6564
        12387b22626f6479223a7b22736f75726365223a7b22757361676547726f7570223a2267222c
        2270726f626162696c697479223a302e357d7d7d
        """)
    static let profileID = hexBytes("0f8fad5bd9cb469fa16570867728950e")
    static let annotationValue = #"{"body":{"source":{"usageGroup":"g","probability":0.5}}}"#

    static var message: PushRequestMessage {
        PushRequestMessage(
            tenantID: "anonymous",
            labels: [("__name__", "process_cpu"), ("service_name", "my-app")],
            profile: pprof, profileID: profileID, shard: 10,
            annotations: [("pyroscope.ingest.sampled", ByteString(annotationValue))])
    }
}

func pushError(_ bytes: [UInt8], maxMessageBytes: Int = PushRequestView.defaultMaxMessageBytes) -> PushError? {
    bytes.withUnsafeBytes { raw -> PushError? in
        do throws(PushError) {
            _ = try PushRequestView(raw, maxMessageBytes: maxMessageBytes)
            return nil
        } catch {
            return error
        }
    }
}

@Suite struct PushRequestTests {
    @Test func specExampleHasTheStatedSizes() {
        #expect(SpecExample.pprof.count == 78)
        #expect(SpecExample.request.count == 246)
    }

    @Test func specExampleDecodesInPlace() throws {
        try SpecExample.request.withUnsafeBytes { raw in
            let view = try PushRequestView(raw)
            #expect(Array(view.tenantID) == Array("anonymous".utf8))
            #expect(view.labelCount == 2)
            let labels = view.labels.map { (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)) }
            #expect(labels.map(\.0) == ["__name__", "service_name"])
            #expect(labels.map(\.1) == ["process_cpu", "my-app"])
            #expect(Array(view.profile) == SpecExample.pprof)
            #expect(Array(view.profileID) == SpecExample.profileID)
            #expect(view.profileIDHalves.high == 0x0F8F_AD5B_D9CB_469F)
            #expect(view.profileIDHalves.low == 0xA165_7086_7728_950E)
            #expect(view.shard == 10)
            #expect(view.annotationCount == 1)
            let annotation = try #require(view.annotations.first { _ in true })
            #expect(String(decoding: annotation.name, as: UTF8.self) == "pyroscope.ingest.sampled")
            #expect(String(decoding: annotation.value, as: UTF8.self) == SpecExample.annotationValue)
            // Zero-copy: the views point into the message.
            #expect(view.profile.baseAddress == raw.baseAddress! + 62)
        }
    }

    @Test func specExampleProfileHasTheStatedContents() throws {
        let decoder = PprofDecoder()
        let p = try decodeProfile(SpecExample.pprof, decoder: decoder)
        #expect(p.samples.count == 1)
        #expect(p.stringTable == ["", "cpu", "nanoseconds", "main"])
        #expect(p.sampleTypes == [ValueTypeRef(type: 1, unit: 2)])
        #expect(p.timeNanos == 1_700_000_000_000_000_000)
        #expect(p.period == 10_000_000)
        #expect(p.periodType == ValueTypeRef(type: 1, unit: 2))
        #expect(p.functions.count == 1 && p.functions[0].name == 3)
        #expect(decoder.symbolStringMask == [true, true, true, true])
    }

    @Test func encoderReproducesTheSpecExample() {
        #expect(SpecExample.message.encode() == SpecExample.request)
        #expect(PprofEncoder.encode(try! decodeProfile(SpecExample.pprof)) == SpecExample.pprof)
    }

    // §1.3 / §7 check 2.
    @Test func emptyTenantIsInvalidArgumentNoOrgID() throws {
        var m = SpecExample.message
        m.tenantID = ""
        let error = try #require(pushError(m.encode()))
        #expect(error.kind == .missingTenant)
        #expect(error.statusCode == 3)
        #expect(error.message == "no org id")
    }

    @Test(arguments: [0, 1, 15, 17, 32])
    func profileIDOtherThan16BytesIsInvalidUUID(length: Int) throws {
        var m = SpecExample.message
        m.profileID = Array(repeating: 0xAB, count: length)
        let error = try #require(pushError(m.encode()))
        #expect(error.kind == .invalidProfileID)
        #expect(error.statusCode == 3)
        #expect(error.message == "invalid UUID (got \(length) bytes)")
    }

    @Test func emptyMessageHasNoTenant() {
        #expect(pushError([])?.message == "no org id")
    }

    @Test func tenantIsCheckedBeforeProfileID() throws {
        var m = SpecExample.message
        m.tenantID = ""
        m.profileID = []
        #expect(pushError(m.encode())?.kind == .missingTenant)
    }

    @Test func undecodableRequestIsInternal() throws {
        for cut in [1, 5, 30, 100, 245] {
            let error = try #require(pushError(Array(SpecExample.request.prefix(cut))), "cut \(cut)")
            #expect(error.kind == .requestUndecodable)
            #expect(error.statusCode == 13)
            #expect(error.message.hasPrefix("grpc: error unmarshalling request: "))
        }
        // Field number 0 and wire type 7 are malformed.
        #expect(pushError([0x00, 0x01])?.statusCode == 13)
        #expect(pushError([0x0F])?.statusCode == 13)
    }

    @Test func invalidUTF8InStringFieldsIsInternal() throws {
        let bad = ByteString([0x61, 0xFF, 0x62])
        var tenant = SpecExample.message
        tenant.tenantID = bad
        var label = SpecExample.message
        label.labels[1].value = bad
        var annotation = SpecExample.message
        annotation.annotations[0].key = bad
        for m in [tenant, label, annotation] {
            let error = try #require(pushError(m.encode()))
            #expect(error.kind == .requestUndecodable)
            #expect(error.statusCode == 13)
            #expect(error.message.contains("invalid UTF-8"))
        }
        // Profile bytes are `bytes`, not `string`: invalid UTF-8 there is fine.
        var profile = SpecExample.message
        profile.profile = [0xFF, 0xFE]
        #expect(pushError(profile.encode()) == nil)
    }

    @Test func oversizedRequestIsResourceExhausted() throws {
        let error = try #require(pushError(SpecExample.request, maxMessageBytes: 245))
        #expect(error.kind == .requestTooLarge)
        #expect(error.statusCode == 8)
        #expect(pushError(SpecExample.request, maxMessageBytes: 246) == nil)
    }

    @Test func unknownFieldsAndWrongWireTypesAreSkippedAndLastScalarWins() throws {
        var w = ByteWriter()
        w.append(contentsOf: SpecExample.request)
        w.appendVarintField(99, 7) // unknown
        w.appendVarintField(4, 1) // profile with the wrong wire type: unknown to Go's runtime
        w.appendVarintField(6, 0x1_0000_0003) // shard: last wins, truncated to uint32
        try w.bytes.withUnsafeBytes { raw in
            let view = try PushRequestView(raw)
            #expect(view.shard == 3)
            #expect(Array(view.profile) == SpecExample.pprof)
            #expect(view.labels.map { _ in 1 }.count == 2)
        }
    }

    @Test func utf8ValidatorMatchesGoRules() {
        func valid(_ b: [UInt8]) -> Bool { b.withUnsafeBytes { isValidUTF8($0) } }
        #expect(valid(Array("héllo, 世界 🎉".utf8)))
        #expect(valid([]))
        #expect(!valid([0xC0, 0x80])) // overlong
        #expect(!valid([0xE0, 0x80, 0x80])) // overlong
        #expect(!valid([0xED, 0xA0, 0x80])) // surrogate
        #expect(!valid([0xF4, 0x90, 0x80, 0x80])) // above U+10FFFF
        #expect(!valid([0xE4, 0xB8])) // truncated
        #expect(!valid([0x80]))
        #expect(valid([0xF4, 0x8F, 0xBF, 0xBF]))
        #expect(valid([0xED, 0x9F, 0xBF]))
    }
}

@Suite struct PushDecoderTests {
    @Test func specExampleDecodesEndToEnd() throws {
        let decoder = PushDecoder()
        try SpecExample.request.withUnsafeBytes { raw in
            let view = try decoder.decode(raw)
            #expect(view.shard == 10)
            #expect(decoder.profile.sampleCount == 1)
            #expect(Array(decoder.profile.values(ofSample: 0)) == [10_000_000])
            #expect(String(decoding: decoder.profile.string(3), as: UTF8.self) == "main")
        }
    }

    @Test func gzipProfileInsideARequestDecodesTheSame() throws {
        var m = SpecExample.message
        m.profile = PprofEncoder.gzip(SpecExample.pprof)
        let decoder = PushDecoder()
        try m.encode().withUnsafeBytes { raw in
            _ = try decoder.decode(raw)
            #expect(decoder.inflater.lastInputWasGzip)
            #expect(PprofProfile(decoder.profile) == (try decodeProfile(SpecExample.pprof)))
        }
    }

    /// §7 check 2: empty profile, 5 raw bytes and ≥ 10 bytes of garbage are INVALID_ARGUMENT.
    @Test func badProfilesAreInvalidArgument() throws {
        let cases: [([UInt8], String)] = [
            ([], "gzip reset: EOF"),
            ([1, 2, 3, 4, 5], "gzip reset: unexpected EOF"),
            (Array(repeating: 0xFF, count: 12), "pprof: "),
        ]
        let decoder = PushDecoder()
        for (profile, prefix) in cases {
            var m = SpecExample.message
            m.profile = profile
            let error = m.encode().withUnsafeBytes { raw -> PushError? in
                do throws(PushError) {
                    _ = try decoder.decode(raw)
                    return nil
                } catch {
                    return error
                }
            }
            #expect(error?.statusCode == 3)
            #expect(error?.message.hasPrefix(prefix) == true, "\(String(describing: error))")
        }
    }
}
