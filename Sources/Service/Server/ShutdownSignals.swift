import Runtime
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

    /// Blocks until SIGTERM or SIGINT arrives (its number) or `timeoutNs` passed (nil).
    public static func wait(timeoutNs: UInt64) -> Int32? {
        var signals = set()
        let deadlineNs = EventLoop.monotonicNowNs &+ timeoutNs
        while true {
            let nowNs = EventLoop.monotonicNowNs
            guard nowNs < deadlineNs else { return nil }
            let remainingNs = deadlineNs - nowNs
            var timeout = timespec(tv_sec: Int(remainingNs / 1_000_000_000), tv_nsec: Int(remainingNs % 1_000_000_000))
            let received = sigtimedwait(&signals, nil, &timeout)
            if received > 0 { return received }
            // EAGAIN: the time is up (checked above); EINTR: another signal's handler ran.
        }
    }
}
