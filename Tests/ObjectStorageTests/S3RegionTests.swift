import HTTP1
@testable import ObjectStorage
import Testing

/// The signing region without `-storage.s3.region`: from the endpoint's host as minio-go's
/// `GetRegionFromURL` derives it (its own test table), else from GetBucketLocation.
@Suite struct S3RegionTests {
    /// minio-go v7.1.0 `pkg/s3utils/utils_test.go` `TestGetRegionFromURL` (hosts without ports;
    /// an empty expectation there is nil here).
    static let minioCases: [(host: String, region: String?)] = [
        ("storage.googleapis.com", nil), ("s3.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("s3.dualstack.cn-north-1.amazonaws.com.cn", "cn-north-1"), ("s3.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"),
        ("s3.dualstack.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"), ("s3-fips-us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("s3-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"), ("s3-fips.us-gov-east-1.amazonaws.com", "us-gov-east-1"),
        ("s3-us-gov-west-1.amazonaws.com", "us-gov-west-1"), ("192.168.1.1", nil), ("s3-eu-west-1.amazonaws.com", "eu-west-1"),
        ("s3.eu-west-1.amazonaws.com", "eu-west-1"), ("s3.dualstack.eu-west-1.amazonaws.com", "eu-west-1"),
        ("s3.amazonaws.com", nil), ("s3-external-1.amazonaws.com", nil),
        ("s3.kubernetesfrontendlb-caf78da2b1f7516c.elb.us-west-2.amazonaws.com", nil),
        ("s3.kubernetesfrontendlb-caf78da2b1f7516c.elb.amazonaws.com", nil),
        ("s3.kubernetesfrontendlb-caf78da2b1f7516c.elb.amazonaws.com.cn", nil),
        ("bucket.vpce-1a2b3c4d-5e6f.s3.us-east-1.vpce.amazonaws.com", "us-east-1"),
        ("accesspoint.vpce-1a2b3c4d-5e6f.s3.us-east-1.vpce.amazonaws.com", "us-east-1"),
        ("s3-fips.us-east-1.amazonaws.com", "us-east-1"), ("s3-fips.dualstack.us-west-1.amazonaws.com", "us-west-1"),
        ("s3express-usw2-az1.us-west-2.amazonaws.com", "us-west-2"), ("s3express-use1-az5.us-east-1.amazonaws.com", "us-east-1"),
        ("s3express-apne1-az4.ap-northeast-1.amazonaws.com", "ap-northeast-1"),
        ("s3express-euc1-az2.eu-central-1.amazonaws.com", "eu-central-1"),
        ("s3express-usgw1-az3.us-gov-west-1.amazonaws.com", "us-gov-west-1"), ("s3express-control.us-west-2.amazonaws.com", "us-west-2"),
        ("test-access-point-000000000000.op-00000000000000000.s3-outposts.eu-central-1.amazonaws.com", "eu-central-1"),
        ("myap-123456789012.op-0ab1c2d3e4f5.s3-outposts.us-west-2.amazonaws.com", "us-west-2"),
        ("s3express-usw2-az7.us-west-2.amazonaws.com", nil), ("invalid-endpoint.com", nil),
    ]

    @Test func hostNamesTheRegionAsMinioGoReadsIt() {
        for (host, region) in Self.minioCases {
            #expect(S3Region.fromHost(host) == region, "\(host)")
        }
    }

    private func client(_ endpoint: String, region: String = "") throws -> S3Client {
        try S3Client(configuration: S3Configuration(endpoint: endpoint, bucketName: "examplebucket", region: region,
                                                    credentials: S3ClientTests.credentials, insecure: true))
    }

    @Test func requestsAreSignedForTheEndpointsRegionUnlessOneIsConfigured() throws {
        let derived = try client("s3.dualstack.eu-west-1.amazonaws.com").getObject(key: "k", date: S3ClientTests.date)
        #expect(derived.header("authorization")?.contains("/20130524/eu-west-1/s3/aws4_request") == true)
        let configured = try client("s3.eu-west-1.amazonaws.com", region: "eu-central-1")
        #expect(configured.region == "eu-central-1")
        #expect(try client("minio:9000").region == "us-east-1")
        // What start-up logs, without a client.
        for (endpoint, region) in [("s3.dualstack.eu-west-1.amazonaws.com", ""), ("s3.eu-west-1.amazonaws.com", "eu-central-1"), ("minio:9000", "")] {
            let configuration = S3Configuration(endpoint: endpoint, bucketName: "examplebucket", region: region,
                                                credentials: S3ClientTests.credentials, insecure: true)
            #expect(configuration.signingRegion == (try client(endpoint, region: region).region), "\(endpoint)")
        }
    }

    /// minio-go signs GetBucketLocation for us-east-1 whatever the client's region.
    @Test func getBucketLocationIsSignedForUSEast1() throws {
        let request = try client("s3.eu-west-1.amazonaws.com", region: "eu-central-1").getBucketLocation(date: S3ClientTests.date)
        #expect(request.target == "/?location=")
        #expect(request.header("authorization")?.contains("/20130524/us-east-1/s3/aws4_request") == true)
        #expect(try client("minio:9000").getBucketLocation(date: S3ClientTests.date).target == "/examplebucket?location=")
    }

    private func response(_ status: Int, _ body: String) -> HTTP1ClientResponse {
        HTTP1ClientResponse(status: status, reason: "", version: "HTTP/1.1", headers: [], body: Array(body.utf8), keepAlive: true)
    }

    @Test func locationAnswersAsMinioGoReadsThem() throws {
        let ns = #"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#
        #expect(try S3Region.fromLocationResponse(response(200, "<LocationConstraint \(ns)>eu-west-2</LocationConstraint>")) == "eu-west-2")
        #expect(try S3Region.fromLocationResponse(response(200, "<LocationConstraint \(ns)></LocationConstraint>")) == "us-east-1")
        #expect(try S3Region.fromLocationResponse(response(200, "<LocationConstraint \(ns)/>")) == "us-east-1")
        #expect(try S3Region.fromLocationResponse(response(200, "<LocationConstraint>EU</LocationConstraint>")) == "eu-west-1")
        let malformed = "<Error><Code>AuthorizationHeaderMalformed</Code><Region>ap-south-1</Region></Error>"
        #expect(try S3Region.fromLocationResponse(response(400, malformed)) == "ap-south-1")
        #expect(try S3Region.fromLocationResponse(response(403, "<Error><Code>AccessDenied</Code></Error>")) == "us-east-1")
        #expect(throws: StorageError.service(status: 500, code: "InternalError", message: "")) {
            try S3Region.fromLocationResponse(response(500, "<Error><Code>InternalError</Code><Message></Message></Error>"))
        }
        #expect(throws: StorageError.malformedResponse("GetBucketLocation answer has no LocationConstraint")) {
            try S3Region.fromLocationResponse(response(200, "<html/>"))
        }
    }

    /// Nothing is asked when the configuration or the endpoint names the region.
    @Test func onlyAnUnnamedRegionIsAsked() throws {
        let named = S3Configuration(endpoint: "127.0.0.1:9", bucketName: "b", credentials: S3ClientTests.credentials, insecure: true)
        for (endpoint, region) in [("s3.eu-west-1.amazonaws.com", ""), ("127.0.0.1:9", "eu-west-1")] {
            var s3 = named
            s3.endpoint = endpoint
            s3.region = region
            let storage = StorageConfiguration(backend: .s3, s3: s3)
            #expect(try storage.locatingS3Region(timeoutMs: 1_000).s3?.region == region)
        }
        // Port 9 (discard) refuses: an unnamed region is asked, and the failure is the caller's to report.
        #expect(throws: StorageError.self) { try StorageConfiguration(backend: .s3, s3: named).locatingS3Region(timeoutMs: 1_000) }
    }
}
