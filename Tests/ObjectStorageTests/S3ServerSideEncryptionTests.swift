import HTTP1
@testable import ObjectStorage
import Testing

/// `-storage.s3.sse.*` on the wire: minio-go's `encrypt.ServerSide` headers on every PUT, signed.
@Suite struct S3ServerSideEncryptionTests {
    private func put(_ encryption: S3ServerSideEncryption?) throws -> HTTP1ClientRequest {
        let configuration = S3Configuration(endpoint: "127.0.0.1:9000", bucketName: "b", credentials: S3ClientTests.credentials,
                                            insecure: true, serverSideEncryption: encryption)
        return try S3Client(configuration: configuration).putObject(key: "k", body: [1, 2, 3], date: S3ClientTests.date)
    }

    @Test func sseS3AsksForAES256() throws {
        let request = try put(.s3)
        #expect(request.header("x-amz-server-side-encryption") == "AES256")
        #expect(request.header("authorization")?.contains("x-amz-date;x-amz-server-side-encryption,") == true)
    }

    /// The context is base64 of Go's `json.Marshal` of the map (sorted keys, HTML-safe escapes).
    @Test func sseKMSSendsTheKeyAndTheContextSigned() throws {
        let request = try put(.kms(keyID: "arn:aws:kms:eu-west-1:111122223333:key/k1", context: ["z": "<&>", "a": "b"]))
        #expect(request.header("x-amz-server-side-encryption") == "aws:kms")
        #expect(request.header("x-amz-server-side-encryption-aws-kms-key-id") == "arn:aws:kms:eu-west-1:111122223333:key/k1")
        #expect(request.header("x-amz-server-side-encryption-context") == "eyJhIjoiYiIsInoiOiJcdTAwM2NcdTAwMjZcdTAwM2UifQ==")
        #expect(request.header("authorization")?.contains(
            "x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id;x-amz-server-side-encryption-context,") == true)
    }

    /// thanos objstore turns a missing context into `{}`.
    @Test func sseKMSWithoutContextSendsAnEmptyObject() throws {
        #expect(try put(.kms(keyID: "k", context: [:])).header("x-amz-server-side-encryption-context") == "e30=")
    }

    @Test func goJSONEscapes() {
        #expect(S3ServerSideEncryption.json(["k": "\"\\\n\t\u{01}\u{2028}é"]) == #"{"k":"\"\\\n\t\u0001\u2028é"}"#)
        #expect(S3ServerSideEncryption.json(["b": "", "a": "", "B": ""]) == #"{"B":"","a":"","b":""}"#)
    }

    @Test func onlyPutsCarryEncryptionHeaders() throws {
        #expect(try put(nil).headers.allSatisfy { !$0.name.hasPrefix("x-amz-server-side-encryption") })
        let client = try S3Client(configuration: S3Configuration(endpoint: "127.0.0.1:9000", bucketName: "b",
                                                                 credentials: S3ClientTests.credentials, insecure: true,
                                                                 serverSideEncryption: .s3))
        #expect(client.getObject(key: "k", date: S3ClientTests.date).header("x-amz-server-side-encryption") == nil)
    }
}
