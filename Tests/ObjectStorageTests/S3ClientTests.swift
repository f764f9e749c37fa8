import HTTP1
import ObjectStorage
import Testing

@Suite struct S3ClientTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let date = AmzDate(unixSeconds: 1_369_353_600)

    private func client(_ endpoint: String, lookup: S3BucketLookup = .auto, insecure: Bool = false) throws -> S3Client {
        try S3Client(configuration: S3Configuration(endpoint: endpoint, bucketName: "examplebucket", credentials: Self.credentials,
                                                    insecure: insecure, bucketLookup: lookup))
    }

    @Test func putIsPathStyleForCustomEndpointsWithMD5AndPayloadHash() throws {
        let s3 = try client("127.0.0.1:9000", insecure: true)
        let body = Array("Welcome to Amazon S3.".utf8)
        let request = s3.putObject(key: "segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/block.bin", body: body, date: Self.date)
        #expect(!s3.virtualHosted && s3.endpoint == S3Endpoint(host: "127.0.0.1", port: 9000, useTLS: false))
        #expect(request.method == "PUT")
        #expect(request.target == "/examplebucket/segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/block.bin")
        #expect(request.header("host") == "127.0.0.1:9000")
        #expect(request.header("x-amz-content-sha256") == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(request.header("content-md5") == Crypto.base64(Crypto.md5(body)))
        #expect(request.header("x-amz-date") == "20130524T000000Z")
        #expect(request.header("authorization")?.contains(
            "SignedHeaders=content-length;content-md5;content-type;host;x-amz-content-sha256;x-amz-date,") == true)
        #expect(request.body == body)
    }

    @Test func awsEndpointsAreVirtualHostedAndReproduceTheDocsGetObjectSignature() throws {
        let s3 = try client("s3.amazonaws.com")
        #expect(s3.virtualHosted && s3.endpoint.hostHeader == "examplebucket.s3.amazonaws.com" && s3.endpoint.port == 443)
        let request = s3.getObject(key: "test.txt", date: Self.date)
        #expect(request.target == "/test.txt")
        // Same as the docs' GET Object example minus its Range header.
        let signature = request.header("authorization")?.split(separator: "=").last.map(String.init)
        var expected = SigV4Request(method: "GET", encodedPath: "/test.txt", headers: [
            ("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", SigV4Tests.emptyHash),
        ], payloadHash: SigV4Tests.emptyHash)
        SigV4Tests.s3Docs.sign(&expected, date: Self.date)
        #expect(signature == expected.headers.last?.value.split(separator: "=").last.map(String.init))
    }

    @Test func lookupTypeOverridesAndEndpointForms() throws {
        #expect(try client("s3.amazonaws.com", lookup: .pathStyle).virtualHosted == false)
        #expect(try client("storage.googleapis.com").virtualHosted)
        #expect(try client("minio.local:9000").virtualHosted == false)
        let dotted = try S3Client(configuration: S3Configuration(endpoint: "s3.eu-west-1.amazonaws.com", bucketName: "my.bucket",
                                                                 credentials: Self.credentials))
        #expect(!dotted.virtualHosted, "a dotted bucket breaks the TLS wildcard certificate")
        #expect(try client("minio:9000", lookup: .virtualHostedStyle).endpoint.hostHeader == "examplebucket.minio:9000")
        #expect(try client("https://minio:443", insecure: true).endpoint == S3Endpoint(host: "minio", port: 443, useTLS: true))
        #expect(try client("[::1]:9000", insecure: true).endpoint.hostHeader == "[::1]:9000")
        #expect(throws: StorageError.self) { try client("host:notaport") }
        #expect(throws: StorageError.self) {
            try S3Client(configuration: S3Configuration(endpoint: "x", bucketName: "", credentials: Self.credentials))
        }
    }

    @Test func listObjectsV2QueryIsSortedAndEncoded() throws {
        let request = try client("localhost:5000", insecure: true).listObjectsV2(prefix: "dlq/1", maxKeys: 1, date: Self.date)
        #expect(request.target == "/examplebucket?list-type=2&max-keys=1&prefix=dlq%2F1")
    }

    @Test func errorXMLIsSurfacedAsATypedError() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match &amp; so on</Message></Error>
            """
        let response = HTTP1ClientResponse(status: 403, reason: "Forbidden", version: "HTTP/1.1", headers: [], body: Array(xml.utf8), keepAlive: true)
        #expect(throws: StorageError.service(status: 403, code: "SignatureDoesNotMatch",
                                             message: "The request signature we calculated does not match & so on")) {
            try S3Client.check(response)
        }
        let head404 = HTTP1ClientResponse(status: 404, reason: "Not Found", version: "HTTP/1.1", headers: [], body: [], keepAlive: true)
        #expect(throws: StorageError.service(status: 404, code: "NotFound", message: "Not Found")) { try S3Client.check(head404) }
        #expect(StorageError.service(status: 503, code: "SlowDown", message: "").isRetryable)
        #expect(!StorageError.service(status: 403, code: "SignatureDoesNotMatch", message: "").isRetryable)
    }

    @Test func listAnswerKeysAndContinuation() {
        let xml = "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a/b</Key></Contents>"
            + "<Contents><Key>c&amp;d</Key></Contents><NextContinuationToken>tok</NextContinuationToken></ListBucketResult>"
        let parsed = S3Client.parseList(Array(xml.utf8))
        #expect(parsed.keys == ["a/b", "c&d"] && parsed.nextContinuationToken == "tok")
    }
}
