import CShims
#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking TLS client session over two memory BIOs: no sockets inside. The owner moves
/// bytes: ciphertext received from the network goes in with `receiveCiphertext`, ciphertext to
/// send comes out of `takeCiphertext`; plaintext goes through `writePlaintext`/`readPlaintext`.
/// Drive `handshake()` until it returns true, sending `takeCiphertext()` after every step.
///
/// Not Sendable: one session belongs to one connection on one thread.
public final class TLSSession {
    private let ssl: OpaquePointer
    private let incoming: OpaquePointer  // ciphertext from the peer, read by OpenSSL
    private let outgoing: OpaquePointer  // ciphertext OpenSSL produced, for the peer
    private let context: TLSClientContext  // keeps the SSL_CTX alive
    public private(set) var isHandshakeComplete = false
    /// The peer sent close_notify.
    public private(set) var isClosedByPeer = false

    /// `serverName` is sent as SNI (unless it is an IP literal) and, when verifying, must match
    /// the certificate (DNS name or IP address).
    public init(context: TLSClientContext, serverName: String) throws(TLSError) {
        guard let ssl = SSL_new(context.context) else { throw .failed("SSL_new: \(TLSError.drainOpenSSLErrors())") }
        guard let incoming = BIO_new(BIO_s_mem()), let outgoing = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw .failed("BIO_new failed")
        }
        self.ssl = ssl
        self.incoming = incoming
        self.outgoing = outgoing
        self.context = context
        SSL_set_bio(ssl, incoming, outgoing)  // the SSL now owns both BIOs
        SSL_set_connect_state(ssl)
        let isIP = Self.isIPLiteral(serverName)
        if !isIP {
            _ = serverName.withCString { SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
        }
        if context.verification != .skip {
            let ok = isIP ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) : SSL_set1_host(ssl, serverName)
            guard ok == 1 else { throw .failed("cannot set the expected peer name \(serverName)") }
        }
    }

    deinit { SSL_free(ssl) }

    /// Ciphertext received from the peer.
    public func receiveCiphertext(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let written = BIO_write(incoming, base, Int32(bytes.count))
        precondition(written == Int32(bytes.count), "memory BIO refused a write")
    }

    /// Ciphertext waiting to be sent to the peer (empty when none).
    public func takeCiphertext() -> [UInt8] {
        let pending = Int(BIO_ctrl_pending(outgoing))
        guard pending > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: pending)
        let read = out.withUnsafeMutableBytes { BIO_read(outgoing, $0.baseAddress, Int32(pending)) }
        precondition(read == Int32(pending), "memory BIO short read")
        return out
    }

    /// One handshake step: true once complete, false while it needs more ciphertext from the peer.
    public func handshake() throws(TLSError) -> Bool {
        guard !isHandshakeComplete else { return true }
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            isHandshakeComplete = true
            return true
        }
        let error = SSL_get_error(ssl, rc)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return false }
        throw .failed("handshake failed: \(failureText(error))")
    }

    /// Encrypts all of `bytes` (memory BIOs never apply back-pressure); send `takeCiphertext()` after.
    public func writePlaintext(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        precondition(isHandshakeComplete, "TLS write before the handshake completed")
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let n = min(bytes.count - offset, Int(Int32.max))
            let rc = SSL_write(ssl, bytes.baseAddress! + offset, Int32(n))
            guard rc > 0 else { throw .failed("write failed: \(failureText(SSL_get_error(ssl, rc)))") }
            offset += Int(rc)
        }
    }

    /// Appends all plaintext decryptable from the ciphertext received so far; returns how many
    /// bytes it appended (0 when more ciphertext is needed or the peer closed).
    @discardableResult
    public func readPlaintext(into target: inout [UInt8]) throws(TLSError) -> Int {
        var total = 0
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            ERR_clear_error()
            let rc = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if rc > 0 {
                target.append(contentsOf: chunk[..<Int(rc)])
                total += Int(rc)
                continue
            }
            let error = SSL_get_error(ssl, rc)
            if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return total }
            if error == SSL_ERROR_ZERO_RETURN {
                isClosedByPeer = true
                return total
            }
            throw .failed("read failed: \(failureText(error))")
        }
    }

    /// The protocol the server chose by ALPN (nil when it chose none).
    public var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Queues close_notify; send `takeCiphertext()` after.
    public func close() {
        guard isHandshakeComplete else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
    }

    private func failureText(_ error: Int32) -> String {
        let verify = SSL_get_verify_result(ssl)
        if verify != X509_V_OK, context.verification != .skip {
            return "certificate verification: " + String(cString: X509_verify_cert_error_string(verify))
        }
        return "SSL error \(error): \(TLSError.drainOpenSSLErrors())"
    }

    private static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
