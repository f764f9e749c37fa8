import TLS

extension StorageError {
    /// A file or setting the context cannot use is the configuration's fault; anything else is
    /// the connection's.
    init(_ error: TLSError) {
        switch error {
        case .unusableFile, .unsupported: self = .configuration(error.description)
        case .failed(let message): self = .tls(message)
        }
    }
}

/// Runs a TLS step where storage errors are expected.
func storageTLS<T>(_ body: () throws(TLSError) -> T) throws(StorageError) -> T {
    do { return try body() } catch { throw StorageError(error) }
}
