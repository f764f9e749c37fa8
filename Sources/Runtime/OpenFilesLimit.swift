import CShims

/// The process's RLIMIT_NOFILE. Go's runtime raises the soft limit to the hard one at start
/// (Go 1.19+), so a Go server or load generator has all the descriptors it is allowed; ours do
/// the same, or a default soft limit of 1024 would cap their connections long before anything else.
public enum OpenFilesLimit {
    /// Raises the soft limit to the hard one; returns the soft limit before and after.
    public static func raiseToHardLimit() throws(Errno) -> (before: UInt64, after: UInt64) {
        var before: UInt64 = 0, after: UInt64 = 0
        _ = try Errno.check(cshim_raise_open_files_limit(&before, &after))
        return (before, after)
    }
}
