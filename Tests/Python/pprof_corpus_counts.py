"""Independent counts of the shared pprof corpus for Tests/PprofTests/CorpusTests.swift.

A protobuf wire parser written from the wire-format spec, with no protobuf library and nothing in
common with the Swift decoder. Run: python3 Tests/Python/pprof_corpus_counts.py ../shared/testdata/pprof
and paste the printed rows into `CorpusCounts.all`.
"""
import gzip
import os
import sys


def varint(b, i):
    result, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return result, i


def fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(b, i)
        elif wire == 2:
            n, i = varint(b, i)
            value, i = b[i:i + n], i + n
        elif wire == 1:
            value, i = b[i:i + 8], i + 8
        elif wire == 5:
            value, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        yield number, wire, value


def repeated(wire, value):
    if wire == 0:
        return [value]
    out, i = [], 0
    while i < len(value):
        x, i = varint(value, i)
        out.append(x)
    return out


def signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def row(name, stored):
    is_gzip = len(stored) >= 10 and stored[:3] == b"\x1f\x8b\x08"
    b = gzip.decompress(stored) if is_gzip else stored
    c = dict(st=0, samples=0, locs_ref=0, values=0, labels=0, maps=0, locs=0, lines=0, funcs=0, strs=0)
    value_sum = location_id_sum = string_bytes = 0
    for f, w, v in fields(b):
        if f == 1:
            c["st"] += 1
        elif f == 2:
            c["samples"] += 1
            for g, w2, v2 in fields(v):
                if g == 1:
                    ids = repeated(w2, v2)
                    c["locs_ref"] += len(ids)
                    location_id_sum += sum(ids)
                elif g == 2:
                    vals = repeated(w2, v2)
                    c["values"] += len(vals)
                    value_sum += sum(signed(x) for x in vals)
                elif g == 3:
                    c["labels"] += 1
        elif f == 3:
            c["maps"] += 1
        elif f == 4:
            c["locs"] += 1
            c["lines"] += sum(1 for g, _, _ in fields(v) if g == 4)
        elif f == 5:
            c["funcs"] += 1
        elif f == 6:
            c["strs"] += 1
            string_bytes += len(v)
    return ('        .init("%s", gzip: %s, bytes: %d, sampleTypes: %d, samples: %d, sampleLocations: %d, values: %d, '
            'labels: %d, mappings: %d, locations: %d, lines: %d, functions: %d, strings: %d, stringBytes: %d, '
            'valueSum: %d, locationIDSum: %d),') % (
        name, "true" if is_gzip else "false", len(b), c["st"], c["samples"], c["locs_ref"], c["values"],
        c["labels"], c["maps"], c["locs"], c["lines"], c["funcs"], c["strs"], string_bytes, value_sum,
        location_id_sum)


if __name__ == "__main__":
    directory = sys.argv[1]
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            print(row(name, f.read()))
