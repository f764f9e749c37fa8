import HTTP1
import Runtime
#if canImport(Glibc)
import Glibc
import TLS
#endif

/// Fetches credentials from an `AWSIAMSource` with blocking HTTP: at start-up and on the
/// refresher's thread, never on a loop. Every answer and token file is read up to
/// `AWSTemporaryCredentials.responseBytesMax`.
public struct AWSIAMClient: Sendable {
    public let source: AWSIAMSource
    /// Reads a token file, at most `bytesMax` bytes; tests pass files held in memory.
    let readFile: @Sendable (_ path: String, _ bytesMax: Int) throws(AWSIAMError) -> [UInt8]

    public init(source: AWSIAMSource) {
        self.init(source: source, readFile: BoundedFile.read)
    }

    init(source: AWSIAMSource, readFile: @escaping @Sendable (String, Int) throws(AWSIAMError) -> [UInt8]) {
        self.source = source
        self.readFile = readFile
    }

    /// IMDS answers in milliseconds when it is there; minio-go gives its token request 1 s, so
    /// a host without one fails start-up fast.
    static let imdsTimeoutMs = 1_000
    static let serviceIOTimeoutMs = 5_000

    /// One fetch, every request of it within `timeoutMs`.
    public func fetch(timeoutMs: Int) throws(AWSIAMError) -> AWSTemporaryCredentials {
        let deadlineNs = EventLoop.monotonicNowNs &+ UInt64(max(1, timeoutMs)) * 1_000_000
        switch source {
        case .webIdentity(let tokenFile, let roleARN, let sessionName, let sts):
            let token = try tokenText(tokenFile)
            let session = sessionName.isEmpty ? "segment-writer-\(EventLoop.realtimeNowNs)" : sessionName
            let form = [("Action", "AssumeRoleWithWebIdentity"), ("RoleArn", roleARN), ("RoleSessionName", session),
                        ("Version", "2011-06-15"), ("WebIdentityToken", token)]
                .map { "\($0.0)=\(URIEncoding.encode($0.1, keepSlash: false))" }.joined(separator: "&")
            let response = try roundTrip(HTTP1ClientRequest(method: "POST", target: sts.target,
                                                            headers: [("Host", sts.endpoint.hostHeader),
                                                                      ("Content-Type", "application/x-www-form-urlencoded")],
                                                            body: Array(form.utf8)),
                                         on: transport(sts.endpoint, ioTimeoutMs: Self.serviceIOTimeoutMs), deadlineNs: deadlineNs)
            return try AWSTemporaryCredentials.parseSTS(response.body)
        case .container(let url, let token, let tokenFile):
            var headers = [(name: "Host", value: url.endpoint.hostHeader)]
            let authorization = token.isEmpty && !tokenFile.isEmpty ? try tokenText(tokenFile) : token
            if !authorization.isEmpty {
                guard !authorization.utf8.contains(where: { $0 < 32 || $0 == 127 }) else {
                    throw .malformed("the container authorization token contains a control character")
                }
                headers.append(("Authorization", authorization))
            }
            let response = try roundTrip(HTTP1ClientRequest(method: "GET", target: url.target, headers: headers),
                                         on: transport(url.endpoint, ioTimeoutMs: Self.serviceIOTimeoutMs), deadlineNs: deadlineNs)
            return try AWSTemporaryCredentials.parseJSON(response.body, requireSuccessCode: false)
        case .instanceProfile(let endpoint):
            return try fetchInstanceProfile(endpoint, deadlineNs: deadlineNs)
        }
    }

    /// IMDSv2: a session token (PUT), the role's name, then the role's credentials, both GETs
    /// carrying the token. Without IMDSv1's fallback: a token refused or not answered fails.
    private func fetchInstanceProfile(_ imds: AWSServiceURL, deadlineNs: UInt64) throws(AWSIAMError) -> AWSTemporaryCredentials {
        let connection = try transport(imds.endpoint, ioTimeoutMs: Self.imdsTimeoutMs)
        let host = (name: "Host", value: imds.endpoint.hostHeader)
        let tokenAnswer = try roundTrip(HTTP1ClientRequest(method: "PUT", target: "/latest/api/token",
                                                           headers: [host, ("X-aws-ec2-metadata-token-ttl-seconds", "21600")]),
                                        on: connection, deadlineNs: deadlineNs, capMs: Self.imdsTimeoutMs)
        let token = String(String(decoding: tokenAnswer.body, as: UTF8.self).trimmingSpaces)
        guard !token.isEmpty, !token.utf8.contains(where: { $0 < 32 || $0 == 127 }) else { throw .malformed("IMDS answered an unusable session token") }
        let headers = [host, ("X-aws-ec2-metadata-token", token)]
        let path = "/latest/meta-data/iam/security-credentials/"
        let roles = try roundTrip(HTTP1ClientRequest(method: "GET", target: path, headers: headers),
                                  on: connection, deadlineNs: deadlineNs, capMs: Self.imdsTimeoutMs)
        // An instance profile holds one role; minio-go takes the first line.
        let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first.map { String($0.trimmingSpaces) } ?? ""
        guard !role.isEmpty else { throw .noInstanceRole }
        let answer = try roundTrip(HTTP1ClientRequest(method: "GET", target: path + URIEncoding.encode(role, keepSlash: false), headers: headers),
                                   on: connection, deadlineNs: deadlineNs, capMs: Self.imdsTimeoutMs)
        return try AWSTemporaryCredentials.parseJSON(answer.body, requireSuccessCode: true)
    }

    private func tokenText(_ path: String) throws(AWSIAMError) -> String {
        let text = String(String(decoding: try readFile(path, AWSTemporaryCredentials.responseBytesMax), as: UTF8.self).trimmingSpaces)
        guard !text.isEmpty else { throw .unreadableFile(path: path, reason: "it is empty") }
        return text
    }

    private func transport(_ endpoint: S3Endpoint, ioTimeoutMs: Int) throws(AWSIAMError) -> BlockingHTTPTransport {
        do {
            let tls = endpoint.useTLS ? try storageTLS { () throws(TLSError) in try TLSClientContext(verification: .systemCAs) } : nil
            return BlockingHTTPTransport(endpoint: endpoint, tlsContext: tls, ioTimeoutMs: ioTimeoutMs,
                                         maxResponseBodyBytes: AWSTemporaryCredentials.responseBytesMax)
        } catch {
            throw .transport(error)
        }
    }

    /// `request` within what is left until `deadlineNs` (and at most `capMs`); anything but 200 fails.
    private func roundTrip(_ request: HTTP1ClientRequest, on connection: BlockingHTTPTransport, deadlineNs: UInt64,
                           capMs: Int = .max) throws(AWSIAMError) -> HTTP1ClientResponse {
        let now = EventLoop.monotonicNowNs
        guard now < deadlineNs else { throw .transport(.transport("deadline exceeded")) }
        connection.requestTimeoutMs = min(capMs, Int((deadlineNs - now + 999_999) / 1_000_000))
        let response: HTTP1ClientResponse
        do {
            response = try connection.roundTrip(request)
        } catch {
            throw .transport(error)
        }
        guard response.status == 200 else {
            let text = String(decoding: response.body.prefix(4 << 10), as: UTF8.self)
            let detail = [XMLText.firstElement("Code", in: text), XMLText.firstElement("Message", in: text)].compactMap { $0 }.joined(separator: ": ")
            throw .status(response.status, detail: detail)
        }
        return response
    }
}

/// A token file read whole, refused past a size bound.
enum BoundedFile {
    static func read(_ path: String, bytesMax: Int) throws(AWSIAMError) -> [UInt8] {
        do {
            return try FilesystemObjectStore.readFile(path, bytesMax: bytesMax)
        } catch {
            if case .filesystem(_, _, EFBIG) = error { throw .tooLarge(what: path, bytesMax: bytesMax) }
            if case .filesystem(_, _, let code) = error { throw .unreadableFile(path: path, reason: String(cString: strerror(code))) }
            throw .unreadableFile(path: path, reason: "\(error)")
        }
    }
}
