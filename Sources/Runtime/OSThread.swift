#if canImport(Glibc)
import Glibc
#endif

/// A plain OS thread beside the loops, for blocking work a loop must not do (a getaddrinfo that
/// may wait seconds for DNS) and for blocking test peers. Not pinned, no inbox.
public struct OSThread: Sendable {
    private let handle: pthread_t

    /// Runs `body` on a new thread; nil when the system refuses one.
    public static func spawn(_ body: @escaping @Sendable () -> Void) -> OSThread? {
        final class Body: Sendable {
            let run: @Sendable () -> Void
            init(_ run: @escaping @Sendable () -> Void) { self.run = run }
        }
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            return nil
        }
        return OSThread(handle: handle)
    }

    /// Waits for the thread to end.
    public func join() {
        pthread_join(handle, nil)
    }

    /// Lets the thread end on its own: nobody joins it.
    public func detach() {
        pthread_detach(handle)
    }
}
