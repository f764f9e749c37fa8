@testable import ObjectStorage
import Testing

/// What the IAM sources answer, read into credentials: STS's XML, the container endpoint's and
/// IMDS's JSON, their times; anything malformed or oversized is a typed error.
@Suite struct AWSIAMResponseTests {
    /// Shaped as STS documents it (`AssumeRoleWithWebIdentity`, "Examples").
    static let sts = """
        <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleWithWebIdentityResult>
            <SubjectFromWebIdentityToken>system:serviceaccount:pyroscope:writer</SubjectFromWebIdentityToken>
            <Credentials>
              <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
              <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
              <Expiration>2014-10-24T23:00:23Z</Expiration>
              <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
            </Credentials>
          </AssumeRoleWithWebIdentityResult>
        </AssumeRoleWithWebIdentityResponse>
        """

    /// IMDS's answer, as the EC2 user guide shows it.
    static let imds = """
        {
          "Code" : "Success",
          "LastUpdated" : "2012-04-26T16:39:16Z",
          "Type" : "AWS-HMAC",
          "AccessKeyId" : "ASIAIOSFODNN7EXAMPLE",
          "SecretAccessKey" : "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
          "Token" : "token\\/with\\u002Fescapes",
          "Expiration" : "2017-05-17T15:09:54Z"
        }
        """

    @Test func stsAnswerGivesTheKeyPairTokenAndExpiration() throws {
        let found = try AWSTemporaryCredentials.parseSTS(Array(Self.sts.utf8))
        #expect(found.credentials == AWSCredentials(accessKeyID: "ASgeIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
                                                    sessionToken: "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE"))
        #expect(found.expirationMs == 1_414_191_623_000)
    }

    @Test func jsonAnswerGivesTheKeyPairTokenAndExpiration() throws {
        let found = try AWSTemporaryCredentials.parseJSON(Array(Self.imds.utf8), requireSuccessCode: true)
        #expect(found.credentials == AWSCredentials(accessKeyID: "ASIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                                    sessionToken: "token/with/escapes"))
        #expect(found.expirationMs == 1_495_033_794_000)
        // The container endpoint says no Code; numbers, booleans and null are taken too.
        let container = #"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2017-05-17T15:09:54.5+01:00","AccountId":123,"x":null,"y":true}"#
        #expect(try AWSTemporaryCredentials.parseJSON(Array(container.utf8), requireSuccessCode: false).expirationMs == 1_495_033_794_000 - 3_600_000 + 500)
    }

    @Test func malformedAnswersAreTypedErrors() {
        let malformed: [String] = [
            "", "[]", "{", #"{"AccessKeyId":"A""#, #"{"AccessKeyId":{"nested":"x"}}"#, #"{"a":"b"} trailing"#,
            #"{"a":"\q"}"#, #"{"a":"\ud800\u0041"}"#, #"{"a":bare}"#, "{\"a\":\"new\nline\"}",
            #"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T"}"#,
            #"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"tomorrow"}"#,
            #"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2017-13-17T15:09:54Z"}"#,
            #"{"AccessKeyId":"A\r\nX-Injected: 1","SecretAccessKey":"S","Token":"T","Expiration":"2017-05-17T15:09:54Z"}"#,
        ]
        for text in malformed {
            #expect(throws: AWSIAMError.self, "\(text)") { try AWSTemporaryCredentials.parseJSON(Array(text.utf8), requireSuccessCode: false) }
        }
        #expect(throws: AWSIAMError.malformed("the credentials answer's Code is Failure: no role")) {
            try AWSTemporaryCredentials.parseJSON(Array(#"{"Code":"Failure","Message":"no role"}"#.utf8), requireSuccessCode: true)
        }
        for text in ["<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>",
                     Self.sts.replacing("<SessionToken>", with: "<Other>").replacing("</SessionToken>", with: "</Other>"),
                     Self.sts.replacing("2014-10-24T23:00:23Z", with: "2014-10-24 23:00:23")] {
            #expect(throws: AWSIAMError.self) { try AWSTemporaryCredentials.parseSTS(Array(text.utf8)) }
        }
    }

    @Test func oversizedAnswersAreRefusedBeforeParsing() {
        let padding = [UInt8](repeating: 32, count: AWSTemporaryCredentials.responseBytesMax)
        #expect(throws: AWSIAMError.tooLarge(what: "the credentials answer", bytesMax: AWSTemporaryCredentials.responseBytesMax)) {
            try AWSTemporaryCredentials.parseJSON(Array(Self.imds.utf8) + padding, requireSuccessCode: true)
        }
        #expect(throws: AWSIAMError.tooLarge(what: "the STS answer", bytesMax: AWSTemporaryCredentials.responseBytesMax)) {
            try AWSTemporaryCredentials.parseSTS(Array(Self.sts.utf8) + padding)
        }
    }

    @Test func rfc3339Times() {
        #expect(RFC3339Time.unixMs("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339Time.unixMs("2000-02-29T12:00:00.123456Z") == 951_825_600_123)
        #expect(RFC3339Time.unixMs("1970-01-01T01:00:00+01:00") == 0)
        #expect(RFC3339Time.unixMs("1969-12-31T23:59:59-00:00") == -1_000)
        for bad in ["1970-01-01T00:00:00", "1970-01-01 00:00:00Z", "1970-01-01T00:00:00.Z", "1970-01-01T00:00:00+0100", "70-01-01T00:00:00Z"] {
            #expect(RFC3339Time.unixMs(bad) == nil, "\(bad)")
        }
    }

    @Test func tokenFilesAreReadWithABound() throws {
        #expect(throws: AWSIAMError.self) { try BoundedFile.read("/nonexistent/token", bytesMax: 16) }
        #expect(throws: AWSIAMError.tooLarge(what: "/proc/self/maps", bytesMax: 16)) { try BoundedFile.read("/proc/self/maps", bytesMax: 16) }
        #expect(try BoundedFile.read("/proc/self/maps", bytesMax: 1 << 20).count > 16)
    }
}
