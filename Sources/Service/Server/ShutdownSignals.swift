#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT delivered synchronously: blocked in every thread (call `block()` before
/// any thread starts, so the loops inherit the mask) and taken by `wait()` on the main thread.
public enum ShutdownSignals {
    private static func set() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        return set
    }

    /// Also ignores SIGPIPE: a peer that vanished is an error on the write, not a process exit.
    public static func block() {
        var signals = set()
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Blocks until SIGTERM or SIGINT arrives; returns its number.
    public static func wait() -> Int32 {
        var signals = set()
        var received: Int32 = 0
        while sigwait(&signals, &received) != 0 {}
        return received
    }
}
