import BinaryCoding
import Foundation
import SymbolDB

/// Test-only model of the upstream head's raw ingestion (symdb.md §3, no `Normalize`), used to
/// check the writer against the upstream outputs of §11 check 5. The accumulator owns the real
/// ingestion; this is the smallest faithful sequential version of §3.2–§3.4.
struct RawProfile {
    struct Mapping { var id: UInt64 = 0; var start: UInt64 = 0; var limit: UInt64 = 0; var offset: UInt64 = 0
        var filename: Int = 0; var buildID: Int = 0; var flags: [Bool] = [false, false, false, false] }
    struct Line { var functionID: UInt64 = 0; var line: Int64 = 0 }
    struct Location { var id: UInt64 = 0; var mappingID: UInt64 = 0; var address: UInt64 = 0; var lines: [Line] = []; var isFolded = false }
    struct Function { var id: UInt64 = 0; var name: Int = 0; var systemName: Int = 0; var filename: Int = 0; var startLine: Int64 = 0 }

    var strings: [[UInt8]] = []
    var sampleTypeStrings: [Int] = []
    var samples: [[UInt64]] = []
    var mappings: [Mapping] = []
    var locations: [Location] = []
    var functions: [Function] = []
    var comments: [Int] = []
    var dropFrames = 0
    var keepFrames = 0

    struct Malformed: Error {}

    init(_ bytes: [UInt8]) throws {
        var r = Proto(bytes[...])
        while let (field, wire) = try r.next() {
            switch (field, wire) {
            case (1, 2):
                var m = Proto(try r.bytes())
                while let (f, w) = try m.next() {
                    if w == 0, f == 1 || f == 2 { sampleTypeStrings.append(Int(try m.varint())) } else { try m.skip(w) }
                }
            case (2, 2):
                var m = Proto(try r.bytes())
                var ids: [UInt64] = []
                while let (f, w) = try m.next() {
                    if f == 1 { try m.repeatedVarint(w) { ids.append($0) } } else { try m.skip(w) }
                }
                samples.append(ids)
            case (3, 2): mappings.append(try Self.mapping(try r.bytes()))
            case (4, 2): locations.append(try Self.location(try r.bytes()))
            case (5, 2): functions.append(try Self.function(try r.bytes()))
            case (6, 2): strings.append(Array(try r.bytes()))
            case (7, 0): dropFrames = Int(try r.varint())
            case (8, 0): keepFrames = Int(try r.varint())
            case (13, _): try r.repeatedVarint(wire) { comments.append(Int($0)) }
            default: try r.skip(wire)
            }
        }
    }

    static func mapping(_ b: ArraySlice<UInt8>) throws -> Mapping {
        var r = Proto(b)
        var m = Mapping()
        while let (f, w) = try r.next() {
            guard w == 0 else { try r.skip(w); continue }
            let v = try r.varint()
            switch f {
            case 1: m.id = v
            case 2: m.start = v
            case 3: m.limit = v
            case 4: m.offset = v
            case 5: m.filename = Int(v)
            case 6: m.buildID = Int(v)
            case 7 ... 10: m.flags[Int(f) - 7] = v != 0
            default: break
            }
        }
        return m
    }

    static func location(_ b: ArraySlice<UInt8>) throws -> Location {
        var r = Proto(b)
        var l = Location()
        while let (f, w) = try r.next() {
            switch (f, w) {
            case (1, 0): l.id = try r.varint()
            case (2, 0): l.mappingID = try r.varint()
            case (3, 0): l.address = try r.varint()
            case (5, 0): l.isFolded = try r.varint() != 0
            case (4, 2):
                var m = Proto(try r.bytes())
                var line = Line()
                while let (lf, lw) = try m.next() {
                    if lw == 0, lf == 1 { line.functionID = try m.varint() }
                    else if lw == 0, lf == 2 { line.line = Int64(bitPattern: try m.varint()) }
                    else { try m.skip(lw) }
                }
                l.lines.append(line)
            default: try r.skip(w)
            }
        }
        return l
    }

    static func function(_ b: ArraySlice<UInt8>) throws -> Function {
        var r = Proto(b)
        var fn = Function()
        while let (f, w) = try r.next() {
            guard w == 0 else { try r.skip(w); continue }
            let v = try r.varint()
            switch f {
            case 1: fn.id = v
            case 2: fn.name = Int(v)
            case 3: fn.systemName = Int(v)
            case 4: fn.filename = Int(v)
            case 5: fn.startLine = Int64(bitPattern: v)
            default: break
            }
        }
        return fn
    }
}

/// A minimal protobuf wire reader over an array slice (test code: untyped throws).
struct Proto {
    var b: ArraySlice<UInt8>
    init(_ b: ArraySlice<UInt8>) { self.b = b }

    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = b.popFirst() {
            v |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return v }
            shift += 7
            guard shift < 64 else { throw RawProfile.Malformed() }
        }
        throw RawProfile.Malformed()
    }

    mutating func next() throws -> (UInt64, UInt64)? {
        guard !b.isEmpty else { return nil }
        let key = try varint()
        return (key >> 3, key & 7)
    }

    mutating func bytes() throws -> ArraySlice<UInt8> {
        let n = Int(try varint())
        guard n <= b.count else { throw RawProfile.Malformed() }
        defer { b = b.dropFirst(n) }
        return b.prefix(n)
    }

    mutating func repeatedVarint(_ wire: UInt64, _ body: (UInt64) -> Void) throws {
        if wire == 2 {
            var packed = Proto(try bytes())
            while !packed.b.isEmpty { body(try packed.varint()) }
        } else {
            body(try varint())
        }
    }

    mutating func skip(_ wire: UInt64) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: guard b.count >= 8 else { throw RawProfile.Malformed() }; b = b.dropFirst(8)
        case 2: _ = try bytes()
        case 5: guard b.count >= 4 else { throw RawProfile.Malformed() }; b = b.dropFirst(4)
        default: throw RawProfile.Malformed()
        }
    }
}

/// §3.3 first-occurrence dictionaries and §3.4 stack insertion for one partition.
struct RawPartitionIngest {
    struct LocationKey: Hashable { var mappingID: UInt32; var address: UInt64; var lines: [SymbolLine] }
    struct MissingReference: Error { var what: String }

    var strings: [ByteString] = [""]
    var stringIndex: [ByteString: UInt32] = ["": 0]
    var mappings: [SymbolMapping] = []
    var mappingIndex: [SymbolMapping: UInt32] = [:]
    var functions: [SymbolFunction] = []
    var functionIndex: [SymbolFunction: UInt32] = [:]
    var locations: [SymbolLocation] = []
    var locationIndex: [LocationKey: UInt32] = [:]
    var tree = StackTreeBuilder()
    /// Every inserted stack (location indexes, leaf first) with the ID it got.
    var inserted: [(stack: [UInt32], id: UInt32)] = []

    mutating func ingest(_ p: RawProfile) throws {
        guard !p.samples.isEmpty else { return }
        // §3.2: keep only strings referenced from the listed fields (by index).
        var kept = [Bool](repeating: false, count: p.strings.count)
        func keep(_ i: Int) { if i >= 0, i < kept.count { kept[i] = true } }
        p.sampleTypeStrings.forEach(keep)
        for f in p.functions { keep(f.name); keep(f.systemName); keep(f.filename) }
        for m in p.mappings { keep(m.filename); keep(m.buildID) }
        p.comments.forEach(keep)
        keep(p.keepFrames)
        keep(p.dropFrames)
        var smap: [UInt32] = []
        for (i, s) in p.strings.enumerated() {
            let value = kept[i] ? ByteString(s) : ByteString.empty
            smap.append(Self.intern(value, &strings, &stringIndex))
        }
        func str(_ i: Int) throws -> UInt32 {
            guard i >= 0, i < smap.count else { throw MissingReference(what: "string \(i)") }
            return smap[i]
        }
        var mmap: [UInt64: UInt32] = [:]
        for m in p.mappings {
            let item = SymbolMapping(
                memoryStart: m.start, memoryLimit: m.limit, fileOffset: m.offset, filename: try str(m.filename),
                buildID: try str(m.buildID), hasFunctions: m.flags[0], hasFilenames: m.flags[1],
                hasLineNumbers: m.flags[2], hasInlineFrames: m.flags[3])
            mmap[m.id] = Self.intern(item, &mappings, &mappingIndex)
        }
        var fmap: [UInt64: UInt32] = [:]
        for f in p.functions {
            let item = SymbolFunction(name: try str(f.name), systemName: try str(f.systemName), filename: try str(f.filename),
                                      startLine: UInt32(truncatingIfNeeded: f.startLine))
            fmap[f.id] = Self.intern(item, &functions, &functionIndex)
        }
        var lmap: [UInt64: UInt32] = [:]
        for l in p.locations {
            var mapping: UInt32 = 0
            if l.mappingID != 0 {
                guard let m = mmap[l.mappingID] else { throw MissingReference(what: "mapping \(l.mappingID)") }
                mapping = m
            }
            var lines: [SymbolLine] = []
            for line in l.lines {
                guard let f = fmap[line.functionID] else { throw MissingReference(what: "function \(line.functionID)") }
                lines.append(SymbolLine(functionID: f, line: Int32(truncatingIfNeeded: line.line)))
            }
            let key = LocationKey(mappingID: mapping, address: l.address, lines: lines)
            if let existing = locationIndex[key] {
                lmap[l.id] = existing
            } else {
                let index = UInt32(locations.count)
                locations.append(SymbolLocation(mappingID: mapping, address: l.address, isFolded: l.isFolded, lines: lines))
                locationIndex[key] = index
                lmap[l.id] = index
            }
        }
        var stack: [UInt32] = []
        for sample in p.samples {
            stack.removeAll(keepingCapacity: true)
            for id in sample {
                guard let l = lmap[id] else { throw MissingReference(what: "location \(id)") }
                stack.append(l)
            }
            inserted.append((stack, stack.withUnsafeBufferPointer { tree.insert(leafFirst: $0) }))
        }
    }

    static func intern<T: Hashable>(_ item: T, _ table: inout [T], _ index: inout [T: UInt32]) -> UInt32 {
        if let i = index[item] { return i }
        let i = UInt32(table.count)
        table.append(item)
        index[item] = i
        return i
    }

    var partition: SymbolPartition {
        SymbolPartition(key: 0, strings: strings, mappings: mappings, functions: functions, locations: locations, stackTree: tree)
    }
}

enum ExternalTools {
    /// The file's bytes, gunzipped when they start with the gzip magic.
    static func pprofBytes(_ url: URL) throws -> [UInt8] {
        let raw = [UInt8](try Data(contentsOf: url))
        guard raw.starts(with: [0x1f, 0x8b]) else { return raw }
        return try run("/bin/gzip", ["-dc", url.path], input: nil)
    }

    static func sha256Hex(_ bytes: [UInt8]) throws -> String {
        String(decoding: try run("/usr/bin/sha256sum", [], input: bytes).prefix(64), as: UTF8.self)
    }

    private static func run(_ tool: String, _ arguments: [String], input: [UInt8]?) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        try process.run()
        if let input {
            // sha256sum reads all input before it writes its 65 bytes, so this cannot deadlock.
            stdin.fileHandleForWriting.write(Data(input))
            try stdin.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw RawProfile.Malformed() }
        return [UInt8](data)
    }
}
