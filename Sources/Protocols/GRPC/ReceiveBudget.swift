/// Memory shared by a server's connections for the bytes of messages still arriving. A message
/// inside one DATA payload is read in place and costs nothing here; one that spans payloads is
/// copied as it arrives, and the room it grows into is charged before it is reserved. A refused charge ends that
/// call with RESOURCE_EXHAUSTED, so slow or stalled senders cannot hold more than the budget
/// between them. The charge is released when the message is complete (the application then
/// accounts for what it keeps) or when its call ends first.
public protocol GRPCReceiveBudget: AnyObject, Sendable {
    /// Charges as much as the budget has left up to `maximum`, and returns it, unless that is
    /// less than `minimum`: then nil, nothing charged. (Room grows by doubling; near the budget
    /// it takes what is left at once rather than failing, or growing by each piece's bytes.)
    func reserve(atLeast minimum: Int, upTo maximum: Int) -> Int?
    func release(_ bytes: Int)
}
