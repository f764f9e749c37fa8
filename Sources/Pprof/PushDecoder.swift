/// The whole hot-path decode of one Push, in the order of ingest-and-ops.md §1.3: request
/// checks, then the profile (inflate §2.1, decode, resolve references). One per core; the
/// views it returns are valid until its next call and while the request bytes live.
public final class PushDecoder {
    public let inflater: ProfileInflater
    public let profile: PprofDecoder
    public var maxMessageBytes: Int

    public init(inflater: ProfileInflater = ProfileInflater(),
                maxMessageBytes: Int = PushRequestView.defaultMaxMessageBytes) {
        self.inflater = inflater
        self.profile = PprofDecoder()
        self.maxMessageBytes = maxMessageBytes
    }

    /// Decodes `message` and its profile; on return `profile` holds the resolved columns.
    public func decode(_ message: UnsafeRawBufferPointer) throws(PushError) -> PushRequestView {
        let request = try PushRequestView(message, maxMessageBytes: maxMessageBytes)
        let bytes = try inflater.inflate(request.profile)
        do {
            try profile.decode(bytes)
            try profile.resolveReferences()
        } catch {
            throw PushError(error)
        }
        return request
    }
}
