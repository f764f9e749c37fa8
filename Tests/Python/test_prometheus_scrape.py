"""Operators scrape /metrics with Prometheus: Debian's Prometheus server scrapes the running writer
(its Go HTTP client on our HTTP/1 port, its exposition parser on our text) after a Push, and
upstream's metric names (ingest-and-ops.md §5.3) are queryable."""
import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import grpc
import pytest

from conftest import TESTDATA
from server_process import SegmentWriterProcess, free_port, metric_values, metrics_text
from test_segment_writer_server import call_status, make_request, stub

PUSH_ROUTE = "/segmentwriter.v1.SegmentWriterService/Push"


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


@pytest.fixture
def prometheus(tmp_path):
    """Starts Prometheus scraping `target` every second; yields (start(target) -> base URL)."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus missing: `make test` installs Debian's package"
    started = []

    def start(target):
        config = tmp_path / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
                          "scrape_configs:\n  - job_name: segment-writer\n"
                          f"    static_configs:\n      - targets: ['{target}']\n")
        port = free_port()
        proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                 f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return base
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else "not ready"
                time.sleep(0.2)

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def query(base, promql):
    answer = get_json(f"{base}/api/v1/query?query={urllib.parse.quote(promql)}")
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def test_prometheus_scrapes_the_writer_and_reads_upstreams_metric_names(tmp_path, protos, prometheus):
    server = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=200ms")
    try:
        with grpc.insecure_channel(server.grpc_target) as channel:
            profile = (TESTDATA / "pprof" / "profile_java").read_bytes()
            assert call_status(lambda: stub(protos, channel).Push(make_request(protos, profile), timeout=10))[0] \
                == grpc.StatusCode.OK
        base = prometheus(f"127.0.0.1:{server.http_port}")

        # Two scrapes after the Push: the second proves the series stay consistent between scrapes.
        deadline = time.monotonic() + 30
        while True:
            targets = get_json(base + "/api/v1/targets")["data"]["activeTargets"]  # empty until discovered
            scrapes = query(base, 'count_over_time(up{job="segment-writer"}[1m])')
            if targets and targets[0]["health"] != "unknown" and scrapes and float(scrapes[0]["value"][1]) >= 2:
                break
            assert time.monotonic() < deadline, targets
            time.sleep(0.5)
        [target] = targets
        assert (target["health"], target["lastError"]) == ("up", ""), target

        assert [r["value"][1] for r in query(base, 'up{job="segment-writer"}')] == ["1"]
        assert float(query(base, 'scrape_samples_scraped{job="segment-writer"}')[0]["value"][1]) > 100
        waits = query(base, "pyroscope_segment_ingester_wait_duration_seconds_count")
        assert [(r["metric"]["tenant"], r["value"][1]) for r in waits] == [("anonymous", "1")], waits
        pushes = query(base, f'pyroscope_request_duration_seconds_count{{route="{PUSH_ROUTE}",status_code="success"}}')
        assert [r["value"][1] for r in pushes] == ["1"], pushes
        assert query(base, "pyroscope_segment_writer_segment_size_bytes_count"), "the uploaded segment's size"
        assert query(base, 'pyroscope_segment_writer_store_metadata_dlq{status="success"}'), "the DLQ write"
        # client_golang's process collector, which dashboards read, and where our memory goes.
        for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                     "pyroscope_segment_writer_memory_budget_bytes", 'pyroscope_segment_writer_arena_committed_bytes{shard="1"}'):
            assert query(base, name), name
        # Prometheus counts samples it had to drop as duplicates or out of order: none of ours.
        own = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
        for counter in ("prometheus_target_scrapes_sample_duplicate_timestamp_total",
                        "prometheus_target_scrapes_sample_out_of_order_total",
                        "prometheus_target_scrapes_sample_out_of_bounds_total"):
            [line] = [l for l in own.splitlines() if l.startswith(counter + " ")]
            assert line.split()[1] == "0", line
    finally:
        server.kill()


def test_process_and_memory_metrics_agree_with_proc(tmp_path, protos):
    """process_* as client_golang's collector computes them, checked against /proc of the
    writer; the memory budget's limit and use; a shard's arena high-water mark after a flush."""
    started = time.time()
    server = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=200ms",
                                  "-segment-writer.memory-budget-bytes=268435456", open_files=(3000, 6000))
    try:
        with grpc.insecure_channel(server.grpc_target) as channel:
            profile = (TESTDATA / "pprof" / "heap").read_bytes()
            assert call_status(lambda: stub(protos, channel).Push(make_request(protos, profile, shard=5), timeout=10))[0] \
                == grpc.StatusCode.OK
        text = metrics_text(server)
        assert "# TYPE process_cpu_seconds_total counter" in text
        assert "# TYPE process_resident_memory_bytes gauge" in text
        values = metric_values(server)
        pid = server.proc.pid
        limits = {l[:26].strip(): l[26:].split() for l in open(f"/proc/{pid}/limits")}
        # The writer raised its soft limit to the hard one at start, as Go's runtime does.
        assert values["process_max_fds"] == float(limits["Max open files"][0]) == 6000
        open_fds = len(os.listdir(f"/proc/{pid}/fd"))
        assert abs(values["process_open_fds"] - open_fds) <= 4, (values["process_open_fds"], open_fds)
        rss = int(open(f"/proc/{pid}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        assert 0.7 * rss <= values["process_resident_memory_bytes"] <= 1.3 * rss, (values["process_resident_memory_bytes"], rss)
        assert values["process_virtual_memory_bytes"] >= values["process_resident_memory_bytes"]
        address_space = limits["Max address space"][0]
        assert values["process_virtual_memory_max_bytes"] == (2.0 ** 64 if address_space == "unlimited" else float(address_space))
        assert started - 2 <= values["process_start_time_seconds"] <= time.time()
        cpu = values["process_cpu_seconds_total"]
        assert cpu > 0
        time.sleep(0.3)
        assert metric_values(server)["process_cpu_seconds_total"] >= cpu

        assert values["pyroscope_segment_writer_memory_budget_bytes"] == 268435456
        assert 0 <= values["pyroscope_segment_writer_memory_budget_used_bytes"] < 268435456
        # The Push was answered after its segment's flush: shard 5's arenas hold at least its
        # samples (heap: about 12 000 samples of 12 bytes, in each of 4 sample types).
        assert values['pyroscope_segment_writer_arena_committed_bytes{shard="5"}'] > 4 * 12_000 * 12
        assert not any(k.startswith('pyroscope_segment_writer_arena_committed_bytes{shard="1"}') for k in values)
    finally:
        server.kill()
