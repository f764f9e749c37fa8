"""Writes Tests/Python/fixtures/pyarrow-*.parquet: the synthetic table (synthetic.json) written by
pyarrow, an independent Parquet writer, with DATA_PAGE v1 + dictionaries in two row groups and with DATA_PAGE_V2 +
DELTA encodings and small pages, and the 20-column form (no TraceID). The Swift reader must decode both to SampleTables.synthetic().

Run from the repository root: .venv/bin/python Tests/Python/make_pyarrow_fixtures.py
"""
import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"

I64, U64 = pa.int64(), pa.uint64()
LABEL = pa.struct([pa.field("Key", I64, False), pa.field("Str", I64), pa.field("Num", I64), pa.field("NumUnit", I64)])
SAMPLE = pa.struct([
    pa.field("StacktraceID", U64, False), pa.field("Value", I64, False),
    pa.field("Labels", pa.list_(pa.field("element", LABEL, False)), False),
    pa.field("SpanID", U64), pa.field("TraceID", pa.binary(16)),
])
ANNOTATION = pa.struct([pa.field("Key", pa.string(), False), pa.field("Value", pa.string(), False)])
SCHEMA = pa.schema([
    pa.field("ID", pa.binary(16), False), pa.field("SeriesIndex", pa.uint32(), False),
    pa.field("StacktracePartition", U64, False), pa.field("TotalValue", U64, False),
    pa.field("Samples", pa.list_(pa.field("element", SAMPLE, False)), False),
    pa.field("DropFrames", I64), pa.field("KeepFrames", I64), pa.field("TimeNanos", I64, False),
    pa.field("DurationNanos", I64), pa.field("Period", I64),
    pa.field("Comments", pa.list_(pa.field("element", I64, False)), False),
    pa.field("DefaultSampleType", I64),
    pa.field("Annotations", pa.list_(pa.field("element", ANNOTATION, False)), False),
])


def rows():
    out = json.loads((FIXTURES / "synthetic.json").read_text())
    for row in out:
        row["ID"] = bytes.fromhex(row["ID"])
        for s in row["Samples"]:
            s["Labels"] = []
            s["TraceID"] = bytes.fromhex(s["TraceID"]) if s["TraceID"] else None
        row["Annotations"] = [{"Key": bytes.fromhex(a["Key"]).decode(), "Value": bytes.fromhex(a["Value"]).decode()}
                              for a in row["Annotations"]]
    return out


def main():
    table = pa.Table.from_pylist(rows(), schema=SCHEMA)
    common = dict(compression="none", write_page_checksum=True, write_statistics=True, store_schema=False)
    pq.write_table(table, FIXTURES / "pyarrow-v1-dictionary.parquet", data_page_version="1.0",
                   use_dictionary=True, row_group_size=2, **common)
    delta = {name: "DELTA_BINARY_PACKED" for name in [
        "SeriesIndex", "StacktracePartition", "TotalValue", "Samples.list.element.StacktraceID",
        "Samples.list.element.Value", "Samples.list.element.SpanID", "DropFrames", "KeepFrames", "TimeNanos",
        "DurationNanos", "Period", "Comments.list.element", "DefaultSampleType"]}
    delta.update({"Annotations.list.element.Key": "DELTA_LENGTH_BYTE_ARRAY",
                  "Annotations.list.element.Value": "DELTA_LENGTH_BYTE_ARRAY"})
    # The 20-column form: no Samples.TraceID (and so no trace IDs in the rows).
    no_trace = [dict(r, Samples=[{k: v for k, v in s.items() if k != "TraceID"} for s in r["Samples"]]) for r in rows()]
    sample20 = pa.struct([f for f in SAMPLE if f.name != "TraceID"])
    schema20 = pa.schema([pa.field("Samples", pa.list_(pa.field("element", sample20, False)), False) if f.name == "Samples"
                          else f for f in SCHEMA])
    pq.write_table(pa.Table.from_pylist(no_trace, schema=schema20), FIXTURES / "pyarrow-20-columns.parquet",
                   data_page_version="2.0", use_dictionary=False, **common)
    pq.write_table(table, FIXTURES / "pyarrow-v2-delta.parquet", data_page_version="2.0", use_dictionary=False,
                   column_encoding=delta, data_page_size=16, write_batch_size=1, **common)


if __name__ == "__main__":
    main()
