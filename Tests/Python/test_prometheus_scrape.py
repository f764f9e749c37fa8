"""Operators scrape /metrics with Prometheus: Debian's Prometheus server scrapes the running writer
(its Go HTTP client on our HTTP/1 port, its exposition parser on our text) after a Push, and
upstream's metric names (ingest-and-ops.md §5.3) are queryable."""
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import grpc
import pytest

from conftest import TESTDATA
from server_process import SegmentWriterProcess, free_port
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
        # Prometheus counts samples it had to drop as duplicates or out of order: none of ours.
        own = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
        for counter in ("prometheus_target_scrapes_sample_duplicate_timestamp_total",
                        "prometheus_target_scrapes_sample_out_of_order_total",
                        "prometheus_target_scrapes_sample_out_of_bounds_total"):
            [line] = [l for l in own.splitlines() if l.startswith(counter + " ")]
            assert line.split()[1] == "0", line
    finally:
        server.kill()
