"""Benchmarks/Scripts/ingest-self-times.awk (`make ingest-perf`) over `perf script -F ip,sym,dso`
text shaped like a real DWARF recording: which samples count and how they are split."""
import subprocess

from conftest import ROOT

SCRIPT = ROOT / "Benchmarks" / "Scripts" / "ingest-self-times.awk"
BIN = "(/repo/.build/release/loadgen)"


def sample(*frames):
    return "".join(f"\t          {0x1000 + i:x} {frame}\n" for i, frame in enumerate(frames)) + "\n"


PASS = f"$s7LoadGen12IngestPassesV10ingestPass_4intoyF {BIN}"
FLUSH = f"$s11Accumulator05ShardA0C14flushWithStatsF {BIN}"
GUNZIP = f"$s7LoadGen10GunzipPassC3runyyF {BIN}"
RECORDING = "".join([
    # The innermost frame is inlined into insertAll: the sample is insertAll's.
    sample("$s8SymbolDB16StackTreeBuilderV5childF (inlined)", f"$s8SymbolDB16StackTreeBuilderV9insertAllF {BIN}", PASS),
    sample(f"$s8SymbolDB16StackTreeBuilderV9insertAllF {BIN}", PASS),
    sample(f"$s8SymbolDB16StackTreeBuilderV9insertAllF {BIN}", PASS),
    # A library without symbols counts as one function, whatever its addresses.
    sample("[unknown] (/usr/lib/x86_64-linux-gnu/libdeflate.so.0)", PASS),
    sample("0x0000000000006b9e (/usr/lib/x86_64-linux-gnu/libdeflate.so.0)", PASS),
    sample(f"$s5Pprof0A6TablesV13decodeProfileF {BIN}", PASS),
    # Outside the pass: the gunzip baseline and the flush between passes.
    sample("[unknown] (/usr/lib/x86_64-linux-gnu/libdeflate.so.0)", GUNZIP),
    sample(f"$s15ProfilesParquet17DeltaBinaryPackedO12encodeStreamF {BIN}", FLUSH),
])


def run(*variables):
    args = ["awk"]
    for v in variables:
        args += ["-v", v]
    return subprocess.run([*args, "-f", str(SCRIPT)], input=RECORDING, capture_output=True, text=True)


def rows(out):
    return [line.split(maxsplit=2) for line in out.splitlines()[2:]]


def test_the_pass_is_split_by_function_in_milliseconds_per_pass():
    result = run("hz=1000", "passes=2", "top=10")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "ingestPass: 3.000 ms per pass (6 samples at 1000 Hz over 2 passes)"
    assert rows(result.stdout) == [
        ["1.500", "50.0%", "$s8SymbolDB16StackTreeBuilderV9insertAllF"],
        ["1.000", "33.3%", "[libdeflate.so.0]"],
        ["0.500", "16.7%", "$s5Pprof0A6TablesV13decodeProfileF"],
    ]


def test_top_limits_the_rows_and_frame_picks_another_function():
    assert len(rows(run("hz=1000", "passes=2", "top=1").stdout)) == 1
    flush = run("hz=1000", "passes=1", "top=5", "frame=flushWithStats")
    assert flush.returncode == 0, flush.stderr
    assert flush.stdout.splitlines()[0] == "flushWithStats: 1.000 ms per pass (1 samples at 1000 Hz over 1 passes)"
    assert rows(flush.stdout) == [["1.000", "100.0%", "$s15ProfilesParquet17DeltaBinaryPackedO12encodeStreamF"]]


def test_a_recording_without_the_function_fails():
    result = run("hz=1000", "passes=1", "top=5", "frame=noSuchFunction")
    assert result.returncode == 1
    assert result.stdout.strip() == "no samples inside noSuchFunction"
