/// How large a loop's timer table (`EventLoopConfiguration.timersMax`, which traps when full:
/// Runtime README, "Timers") must be, so that no input can fill it. Only the writer's own timers
/// are in it, each kind bounded by what it serves: a ticker per shard
/// (`-segment-writer.max-shards`, all of which may fall on one loop), `timersPerUploadMax` per
/// upload running (at most `uploadsMax` per loop; the others wait, holding none), and the loop's
/// own few. Calls' `grpc-timeout` deadlines, whose number peers choose, ride on their
/// connection's deadline instead (`GRPCConnectionHandler`).
struct LoopTimerBudget {
    static let uploadsMax = 1024
    /// The uploader's deadline, hedge trigger (or token wait) and two backoffs; a request
    /// deadline and a connect timer per S3 put: the primary's and the hedge's, and a DLQ write's
    /// beside cancelled ones still ending; the metastore call's deadline, retry, refused-stream
    /// and connect timers.
    static let timersPerUploadMax = 16
    /// The deadline sweep, pauses of the loop's two listeners, the answer-retry timer.
    static let loopTimersMax = 64
    /// `-segment-writer.max-shards` at most (a ticker, three address-space reservations and a
    /// few metric series each).
    static let shardsMaxLimit = 65_536

    let shardsMax: Int

    var timersMax: Int { Self.loopTimersMax + shardsMax + Self.uploadsMax * Self.timersPerUploadMax }
}
