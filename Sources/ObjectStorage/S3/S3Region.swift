import HTTP1

/// The region requests are signed for when `-storage.s3.region` is empty, found as minio-go
/// (thanos objstore's client) finds it: from an AWS endpoint's host name, else from the bucket
/// (GetBucketLocation).
enum S3Region {
    /// minio-go's `s3utils.GetRegionFromURL`: its patterns, in its order (`.` matches any
    /// character there too), and the capture group holding the region.
    private static let hostPatterns: [(pattern: String, group: Int)] = [
        (#"^s3-fips.dualstack.(.*?).amazonaws.com$"#, 1),
        (#"^s3-fips.(.*?).amazonaws.com$"#, 1),
        (#"^s3.dualstack.(.*?).amazonaws.com$"#, 1),
        (#"^s3-(.*?).amazonaws.com$"#, 1),
        (#"^s3.(cn.*?).amazonaws.com.cn$"#, 1),
        (#"^s3.dualstack.(cn.*?).amazonaws.com.cn$"#, 1),
        (#"^(?:bucket|accesspoint).vpce-.*?.s3.(.*?).vpce.amazonaws.com$"#, 1),
        (#"^s3express-[a-z0-9]{3,7}-az[1-6]\.([a-z0-9-]+)\.amazonaws\.com$"#, 1),
        (#"^s3express-control\.([a-z0-9-]+)\.amazonaws\.com$"#, 1),
        (#"^(.+)\.s3-outposts\.([a-z0-9-]+)\.amazonaws\.com$"#, 2),
    ]

    /// The region an AWS endpoint's host names (`s3.eu-west-1.amazonaws.com`,
    /// `s3-eu-west-1.amazonaws.com`, `s3.dualstack.eu-west-1.amazonaws.com`, …); nil for the
    /// global endpoint, load balancers and every other host.
    static func fromHost(_ host: String) -> String? {
        func capture(_ pattern: String, _ group: Int) -> String? {
            guard let match = try? Regex(pattern).firstMatch(in: host) else { return nil }
            return match.output[group].substring.map(String.init)
        }
        if host == "s3-external-1.amazonaws.com" { return nil }
        if capture(#"elb(.*?).amazonaws.com$"#, 0) != nil || capture(#"elb(.*?).amazonaws.com.cn$"#, 0) != nil { return nil }
        for (pattern, group) in hostPatterns {
            if let region = capture(pattern, group) { return region }
        }
        guard let region = capture(#"^s3.(.*?).amazonaws.com$"#, 1) else { return nil }
        let notRegions = ["xpress-", "dualstack.", "control.", "website-"]
        return notRegions.contains { region.hasPrefix($0) } ? nil : region
    }

    /// minio-go's `processBucketLocationResponse`: the `LocationConstraint` (empty is
    /// `us-east-1`, `EU` is `eu-west-1`); a refusal that names the region (or none) is taken as
    /// an answer, as minio-go takes it.
    static func fromLocationResponse(_ response: HTTP1ClientResponse) throws(StorageError) -> String {
        let text = String(decoding: response.body.prefix(64 << 10), as: UTF8.self)
        guard (200..<300).contains(response.status) else {
            let code = XMLText.firstElement("Code", in: text)
            guard let code, ["AuthorizationHeaderMalformed", "InvalidRegion", "AccessDenied"].contains(code) else {
                try S3Client.check(response)
                throw .malformedResponse("GetBucketLocation answered \(response.status)")
            }
            return XMLText.firstElement("Region", in: text).flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
        }
        // The element carries an xmlns attribute: take the text between its `>` and the end tag.
        guard let open = text.firstRange(of: "<LocationConstraint"), let close = text.firstRange(of: "</LocationConstraint>"),
              let start = text[open.upperBound..<close.lowerBound].firstIndex(of: ">") else {
            guard text.contains("<LocationConstraint") else { throw .malformedResponse("GetBucketLocation answer has no LocationConstraint") }
            return "us-east-1"  // `<LocationConstraint …/>`: the bucket is in us-east-1
        }
        let location = String(text[text.index(after: start)..<close.lowerBound])
        switch location {
        case "": return "us-east-1"
        case "EU": return "eu-west-1"
        default: return location
        }
    }
}
