import ObjectStorage
import Testing

/// Vectors from AWS documentation: the S3 "Signature Calculations for the Authorization Header"
/// examples (bucket `examplebucket`, key `AKIAIOSFODNN7EXAMPLE`, 2013-05-24) and the
/// `aws-sig-v4-test-suite` (`AKIDEXAMPLE`, service `service`, 2015-08-30).
@Suite struct SigV4Tests {
    static let s3Docs = S3RequestSigner(
        credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let suite = S3RequestSigner(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    static let may24 = AmzDate(unixSeconds: 1_369_353_600)
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    @Test func amzDateIsBasicISO8601InUTC() {
        #expect(Self.may24.stamp == "20130524T000000Z")
        #expect(Self.may24.day == "20130524")
        #expect(AmzDate(unixSeconds: 1_440_938_160).stamp == "20150830T123600Z")
    }

    @Test func signingKeyMatchesTheIAMDocsExample() {
        let signer = S3RequestSigner(
            credentials: AWSCredentials(accessKeyID: "", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "iam")
        #expect(Crypto.hex(signer.signingKey(day: "20120215")) == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    @Test func s3DocsGetObjectExample() {
        var request = SigV4Request(method: "GET", encodedPath: "/test.txt", headers: [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"), ("x-amz-content-sha256", Self.emptyHash),
        ], payloadHash: Self.emptyHash)
        #expect(Self.s3Docs.canonicalRequest(request.withDate(Self.may24)) == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(Self.s3Docs.stringToSign(request.withDate(Self.may24), date: Self.may24) == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        Self.s3Docs.sign(&request, date: Self.may24)
        #expect(request.headers.last?.value == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// Temporary credentials: the token goes out as `x-amz-security-token` and is signed. The
    /// signature is botocore's `S3SigV4Auth` for the same request, key, token and time.
    @Test func sessionTokenIsSentAndSigned() {
        var credentials = Self.s3Docs.credentials
        credentials.sessionToken = "session-token/with+base64="
        let signer = S3RequestSigner(credentials: credentials, region: "us-east-1")
        var request = SigV4Request(method: "GET", encodedPath: "/test.txt", headers: [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"), ("x-amz-content-sha256", Self.emptyHash),
        ], payloadHash: Self.emptyHash)
        signer.sign(&request, date: Self.may24)
        #expect(request.headers.contains { $0.name == "x-amz-security-token" && $0.value == "session-token/with+base64=" })
        #expect(request.headers.last?.value == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
            + "Signature=9f8a3a93e59bd4a4c602e978e7677a555ef3bb9fdbea7fa6aa5e5ee83164fe93")
    }

    @Test func s3DocsPutObjectExampleEncodesTheKey() {
        let body = Array("Welcome to Amazon S3.".utf8)
        let hash = Crypto.hex(Crypto.sha256(body))
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = SigV4Request(method: "PUT", encodedPath: "/" + URIEncoding.encode("test$file.text", keepSlash: true), headers: [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", hash),
        ], payloadHash: hash)
        #expect(request.encodedPath == "/test%24file.text")
        #expect(Self.s3Docs.authorization(request.withDate(Self.may24), date: Self.may24).hasSuffix(
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
    }

    @Test func s3DocsGetBucketLifecycleExampleHasAnEmptyQueryValue() {
        let request = SigV4Request(method: "GET", encodedPath: "/", query: [("lifecycle", "")], headers: [
            ("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", Self.emptyHash),
        ], payloadHash: Self.emptyHash)
        #expect(request.canonicalQuery == "lifecycle=")
        #expect(Self.s3Docs.authorization(request.withDate(Self.may24), date: Self.may24).hasSuffix(
            "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))
    }

    @Test func s3DocsListObjectsExampleSortsTheQuery() {
        let request = SigV4Request(method: "GET", encodedPath: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: [
            ("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", Self.emptyHash),
        ], payloadHash: Self.emptyHash)
        #expect(request.canonicalQuery == "max-keys=2&prefix=J")
        #expect(Self.s3Docs.authorization(request.withDate(Self.may24), date: Self.may24).hasSuffix(
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
    }

    @Test(arguments: [
        ("GET", [(name: String, value: String)](), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),  // get-vanilla
        ("POST", [], "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),  // post-vanilla
        ("GET", [("Param2", "value2"), ("Param1", "value1")], "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),  // get-vanilla-query-order-key-case
    ])
    func awsTestSuiteVanilla(method: String, query: [(name: String, value: String)], signature: String) {
        var request = SigV4Request(method: method, encodedPath: "/", query: query,
                                   headers: [("Host", "example.amazonaws.com")], payloadHash: Self.emptyHash)
        Self.suite.sign(&request, date: AmzDate(unixSeconds: 1_440_938_160))
        #expect(request.headers.last?.value == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=\(signature)")
    }

    @Test func uriEncodingFollowsAWSRules() {
        #expect(URIEncoding.encode("segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/block.bin", keepSlash: true)
            == "segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/block.bin")
        #expect(URIEncoding.encode("a b+c/d~e_f-g.h*é", keepSlash: true) == "a%20b%2Bc/d~e_f-g.h%2A%C3%A9")
        #expect(URIEncoding.encode("a/b=c", keepSlash: false) == "a%2Fb%3Dc")
    }

    @Test func contentMD5IsBase64OfTheDigest() {
        #expect(Crypto.base64(Crypto.md5(Array("".utf8))) == "1B2M2Y8AsgTpgAmY7PhCfg==")
        #expect(Crypto.base64(Array("ab".utf8)) == "YWI=")
        #expect(Crypto.base64(Array("abc".utf8)) == "YWJj")
        #expect(Crypto.base64(Array("a".utf8)) == "YQ==")
    }
}

extension SigV4Request {
    /// The request as the signer sees it once `x-amz-date` is set.
    func withDate(_ date: AmzDate) -> SigV4Request {
        var copy = self
        copy.headers.append(("x-amz-date", date.stamp))
        return copy
    }
}
