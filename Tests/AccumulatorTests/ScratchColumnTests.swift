import Testing
@testable import Accumulator

/// `ScratchColumn`, the ingest scratch's storage: contents survive growth, emptying keeps the
/// storage (a warm scratch allocates nothing), and filled elements hold the fill value.
@Suite struct ScratchColumnTests {
    @Test func growthKeepsContents() {
        var column = ScratchColumn<UInt128>()
        var capacities: Set<Int> = []
        for k in 0 ..< 5000 {
            column.append(UInt128(k) << 64 | UInt128(k))
            capacities.insert(column.capacity)
        }
        #expect(capacities.count > 5, "the column grew several times")
        #expect(Array(column.elements) == (0 ..< 5000).map { UInt128($0) << 64 | UInt128($0) })
        let grown = 3 * column.capacity
        column.resize(toAtLeast: grown, fill: 7)
        #expect(column.count == grown && column.capacity >= grown)
        #expect(column[4999] == UInt128(4999) << 64 | 4999)
        #expect(column.elements[5000...].allSatisfy { $0 == 7 })
    }

    @Test func removeAllKeepsStorage() {
        var column = ScratchColumn<UInt32>()
        for k in 0 ..< 1000 { column.append(UInt32(k)) }
        let capacity = column.capacity, base = column.elements.baseAddress
        column.removeAll()
        #expect(column.count == 0 && column.capacity == capacity)
        for k in 0 ..< capacity { column.append(UInt32(k) &* 3) }
        #expect(column.capacity == capacity && column.elements.baseAddress == base, "refilled in place")
        column.refill(count: capacity, with: 9)
        #expect(column.elements.baseAddress == base && column.elements.allSatisfy { $0 == 9 })
    }

    @Test func resizeFillsOnlyNewElements() {
        var column = ScratchColumn<Int32>()
        column.resize(toAtLeast: 3, fill: -1)
        column[1] = 5
        column.resize(toAtLeast: 2, fill: 8)
        #expect(Array(column.elements) == [-1, 5, -1], "a shorter size changes nothing")
        column.resize(toAtLeast: 5, fill: 8)
        #expect(Array(column.elements) == [-1, 5, -1, 8, 8])
        column.truncate(to: 2)
        column.resize(toAtLeast: 4, fill: 0)
        #expect(Array(column.elements) == [-1, 5, 0, 0], "truncated elements are filled again")
        column.refill(count: 3, with: 4)
        #expect(Array(column.elements) == [4, 4, 4])
    }

    /// `reset(count:)` sizes without filling: room for `n` kept in place when it fits, grown
    /// (nothing to carry over) when it does not; what a loop then writes is what it reads back.
    @Test func resetSizesForOverwrite() {
        var column = ScratchColumn<UInt64>()
        column.reset(count: 10)
        let capacity = column.capacity, base = column.elements.baseAddress
        #expect(column.count == 10 && capacity >= 10)
        column.reset(count: capacity)
        #expect(column.count == capacity && column.elements.baseAddress == base)
        column.reset(count: 3 * capacity)
        #expect(column.count == 3 * capacity && column.capacity >= 3 * capacity)
        let elements = column.mutableElements
        for k in elements.indices { elements[k] = UInt64(k) * 7 }
        column.truncate(to: 5)
        #expect(Array(column.elements) == [0, 7, 14, 21, 28])
    }

    /// Writes through `mutableElements` and the subscript land in the column's storage.
    @Test func writesThroughPointerAreTheColumns() {
        var column = ScratchColumn<UInt64>()
        column.refill(count: 4, with: 0)
        let elements = column.mutableElements
        elements[2] = 42
        column[3] = 43
        #expect(Array(column.elements) == [0, 0, 42, 43])
    }
}
