"""pyarrow reads the profiles.parquet sections our Swift writer produces (profiles-parquet.md §10 check 1).

The sections and their expected values (JSON): those committed under Tests/Python/fixtures, which a
Swift test (ProfilesParquetTests.PythonFixtureTests) keeps identical to the writer's current output,
and the same test's fresh output, which adds a section of several pages per column (too large to
commit): this test runs that suite (built already) to write them into a temporary directory.
"""
import json
import os
import pathlib
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import SWIFT

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"

LEAVES = [
    "ID", "SeriesIndex", "StacktracePartition", "TotalValue",
    "Samples.list.element.StacktraceID", "Samples.list.element.Value",
    "Samples.list.element.Labels.list.element.Key", "Samples.list.element.Labels.list.element.Str",
    "Samples.list.element.Labels.list.element.Num", "Samples.list.element.Labels.list.element.NumUnit",
    "Samples.list.element.SpanID", "Samples.list.element.TraceID",
    "DropFrames", "KeepFrames", "TimeNanos", "DurationNanos", "Period", "Comments.list.element",
    "DefaultSampleType", "Annotations.list.element.Key", "Annotations.list.element.Value",
]


def written_now(tmp_path_factory):
    out = tmp_path_factory.mktemp("parquet-samples")
    env = dict(os.environ, PARQUET_SAMPLES_DIR=str(out))
    run = subprocess.run([SWIFT, "test", "--skip-build", "--filter", "ProfilesParquetTests.PythonFixtureTests"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    return out


@pytest.fixture(scope="session")
def sections(tmp_path_factory):
    # Sections our writer produced come with their expected values; pyarrow-written fixtures do not.
    found = [p for directory in (FIXTURES, written_now(tmp_path_factory))
             for p in sorted(directory.glob("*.parquet")) if p.with_suffix(".json").exists()]
    assert "multipage.parquet" in {p.name for p in found}, found
    return found


def rows_of(path):
    table = pq.read_table(path, page_checksum_verification=True)
    # Plain Python values: UUID and timestamp columns as their storage.
    table = table.set_column(table.schema.get_field_index("ID"), "ID", table["ID"].cast(pa.binary(16)))
    table = table.set_column(table.schema.get_field_index("TimeNanos"), "TimeNanos", table["TimeNanos"].cast(pa.int64()))
    return table.to_pylist()


def expected_rows(path):
    rows = json.loads(path.with_suffix(".json").read_text())
    for row in rows:
        row["ID"] = bytes.fromhex(row["ID"])
        for s in row["Samples"]:
            s["Labels"] = []
            if s["TraceID"] is not None:
                s["TraceID"] = bytes.fromhex(s["TraceID"])
        row["Annotations"] = [{"Key": bytes.fromhex(a["Key"]).decode(), "Value": bytes.fromhex(a["Value"]).decode()}
                              for a in row["Annotations"]]
    return rows


def test_values_match_what_swift_wrote(sections):
    for path in sections:
        got, want = rows_of(path), expected_rows(path)
        assert len(got) == len(want), path.name
        for i, (g, w) in enumerate(zip(got, want)):
            assert g == w, f"{path.name} row {i}"


def test_file_shape_is_the_current_schema(sections):
    for path in sections:
        f = pq.ParquetFile(path)
        md = f.metadata
        assert md.num_row_groups == 1
        assert md.num_columns == 21
        assert [md.schema.column(i).path for i in range(21)] == LEAVES
        assert f.schema_arrow.names[:4] == ["ID", "SeriesIndex", "StacktracePartition", "TotalValue"]
        rg = md.row_group(0)
        for i in range(21):
            col = rg.column(i)
            assert col.compression == "UNCOMPRESSED"
            assert col.has_column_index and col.has_offset_index
            assert col.is_stats_set
            assert col.statistics.null_count is not None
        assert rg.column(10).has_dictionary_page and rg.column(11).has_dictionary_page


def test_statistics_agree_with_values(sections):
    for path in sections:
        rows = rows_of(path)
        rg = pq.ParquetFile(path).metadata.row_group(0)
        stats = rg.column(LEAVES.index("TotalValue")).statistics
        assert stats.min == min(r["TotalValue"] for r in rows)
        assert stats.max == max(r["TotalValue"] for r in rows)
        ids = [s["StacktraceID"] for r in rows for s in r["Samples"]]
        if ids:
            stats = rg.column(LEAVES.index("Samples.list.element.StacktraceID")).statistics
            assert (stats.min, stats.max) == (min(ids), max(ids))


def test_pyarrow_fixtures_hold_the_synthetic_rows():
    """The pyarrow-written files the Swift reader is tested on carry exactly synthetic.json."""
    want = expected_rows(FIXTURES / "synthetic.parquet")
    for name in ["pyarrow-v1-dictionary.parquet", "pyarrow-v2-delta.parquet"]:
        assert rows_of(FIXTURES / name) == want, name
