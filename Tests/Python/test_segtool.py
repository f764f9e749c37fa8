"""`segtool` against the real peers: pprofs decoded by the Python protobuf runtime (profile.proto
under protos/pyroscope_api/google/v1), profile rows read by pyarrow from the golden sections, and
block-metas.json. The Makefile exports SEGTOOL (the built binary)."""
import gzip
import json
import os
import pathlib
import re
import shutil
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import TESTDATA

SEGMENTS = TESTDATA / "segments"
META = SEGMENTS / "block-metas.json"
SEGTOOL = os.environ.get("SEGTOOL")

assert SEGTOOL and pathlib.Path(SEGTOOL).is_file(), "SEGTOOL (the built segtool binary) is not set or missing; `make python-test` sets it"


def blocks():
    return {b["id"]: b for b in json.loads(META.read_text())["blocks"]}


def golden_path(block_id):
    return SEGMENTS / "1" / "anonymous" / block_id / "block.bin"


def segtool(*args):
    return subprocess.run([SEGTOOL, *map(str, args)], capture_output=True, text=True, timeout=60)


def profile_rows(block_id, dataset):
    """The dataset's profiles.parquet, cut out of the object by its table of contents."""
    ds = blocks()[block_id]["datasets"][dataset]
    toc = [int(x) for x in ds["tableOfContents"]]
    data = golden_path(block_id).read_bytes()[toc[0]:toc[1]]
    table = pq.read_table(pa.BufferReader(data), columns=["TotalValue", "Samples", "TimeNanos"])
    # TimeNanos is a nanosecond timestamp: as int64, not datetime.
    table = table.set_column(2, "TimeNanos", table.column("TimeNanos").cast(pa.int64()))
    return table.to_pylist()


@pytest.mark.parametrize("block_id", sorted(blocks()))
def test_export_sums_equal_total_value(protos, tmp_path, block_id):
    profile_pb2 = protos.pyroscope_api__google__v1__profile_pb2
    for dataset in range(len(blocks()[block_id]["datasets"])):
        out = tmp_path / f"ds{dataset}"
        r = segtool("export", "--meta", META, "--dataset", dataset, "--out", out, golden_path(block_id))
        assert r.returncode == 0, r.stderr
        rows = profile_rows(block_id, dataset)
        files = sorted(out.iterdir())
        assert len(files) == len(rows) > 0
        for f in files:
            row = int(re.match(rf"{dataset}-(\d+)-", f.name).group(1))
            p = profile_pb2.Profile()
            p.ParseFromString(gzip.decompress(f.read_bytes()))
            assert len(p.sample_type) == 1
            assert sum(s.value[0] for s in p.sample) == rows[row]["TotalValue"], f.name
            assert len(p.sample) == len(rows[row]["Samples"]), f.name
            assert p.time_nanos == rows[row]["TimeNanos"]
            # Every location a sample names is in the profile, and its functions too.
            locations = {l.id: l for l in p.location}
            functions = {fn.id for fn in p.function}
            for s in p.sample:
                for lid in s.location_id:
                    assert all(line.function_id in functions for line in locations[lid].line)


def corrupted_copy(tmp_path):
    block_id = sorted(blocks())[0]
    toc = [int(x) for x in blocks()[block_id]["datasets"][0]["tableOfContents"]]
    tsdb = range(toc[1], toc[2])
    data = bytearray(golden_path(block_id).read_bytes())
    data[tsdb.start + len(tsdb) // 5] ^= 0xFF
    path = tmp_path / block_id / "block.bin"  # the parent directory names the block for --meta
    path.parent.mkdir()
    path.write_bytes(data)
    return path, tsdb


def test_verify_exit_codes(tmp_path):
    goldens = [golden_path(b) for b in sorted(blocks())]
    r = segtool("verify", "--meta", META, *goldens)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(goldens)} of {len(goldens)} objects valid" in r.stdout

    path, tsdb = corrupted_copy(tmp_path)
    r = segtool("verify", "--meta", META, path)
    assert r.returncode != 0
    m = re.search(r"FAIL .*: dataset 0 / index\.tsdb.*at offset (\d+) ", r.stdout)
    assert m, r.stdout
    assert int(m.group(1)) in tsdb


@pytest.mark.parametrize("block_id", sorted(blocks()))
def test_inspect_json_equals_block_metas(block_id):
    block = blocks()[block_id]
    r = segtool("inspect", "--json", "--meta", META, golden_path(block_id))
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["id"] == block_id
    assert s["shard"] == block["shard"]
    assert s["minTimeMs"] == int(block["minTime"]) and s["maxTimeMs"] == int(block["maxTime"])
    assert s["sizeBytes"] == golden_path(block_id).stat().st_size
    strings = block["stringTable"]
    assert len(s["datasets"]) == len(block["datasets"])
    for d, m in zip(s["datasets"], block["datasets"]):
        toc = [int(x) for x in m["tableOfContents"]]
        assert d["tenant"] == strings[m.get("tenant", 0)]
        assert d["service"] == strings[m.get("name", 0)]
        assert d["minTimeMs"] == int(m["minTime"]) and d["maxTimeMs"] == int(m["maxTime"])
        assert d["offset"] == toc[0] and d["sizeBytes"] == int(m["size"])
        assert [x["offset"] for x in d["sections"]] == toc
        assert sum(x["sizeBytes"] for x in d["sections"]) == int(m["size"])
        assert d["errors"] == []
