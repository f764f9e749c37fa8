/// `n` random ring tokens, sorted and unique, as dskit's random token generator makes them
/// (only their count decides a segment writer's shards; ingest-and-ops.md §3.2).
public enum RingTokens {
    public static func random<G: RandomNumberGenerator>(_ n: Int, using generator: inout G) -> [UInt32] {
        precondition(n >= 0, "a negative token count")
        var tokens = Set<UInt32>()
        while tokens.count < n { tokens.insert(UInt32.random(in: .min ... .max, using: &generator)) }
        return tokens.sorted()
    }
}
