"""The default listen address (empty) is every interface, IPv4 and IPv6, as upstream's dskit
server listens on [::]: distributors in IPv6-only or dual-stack clusters reach the pod by either
address. Pushes over 127.0.0.1 and ::1 are both acknowledged and durable; loadgen dials [::1]."""
import json
import subprocess
import urllib.request

import grpc
import pytest

from conftest import TESTDATA
from server_process import SegmentWriterProcess, bin_dir
from test_segment_writer_server import call_status, check_objects, make_request, stub


def start(tmp_path, listen_address):
    # A debug build's fsync'd uploads on a loaded machine can pass the 2 s default upload timeout.
    return SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=200ms",
                                "-segment-writer.upload-timeout=30s", listen_address=listen_address)


@pytest.fixture
def server(tmp_path):
    proc = start(tmp_path, "")
    yield proc
    proc.kill()


@pytest.fixture(params=["", "0.0.0.0"], ids=["empty", "0.0.0.0"])
def wildcard_server(tmp_path, request):
    # As in Go, 0.0.0.0 is the dual-stack wildcard as well.
    proc = start(tmp_path, request.param)
    yield proc
    proc.kill()


def test_default_address_takes_ipv4_and_ipv6_pushes(protos, wildcard_server):
    server = wildcard_server
    profile = (TESTDATA / "pprof" / "heap").read_bytes()
    for shard, target in ((1, f"ipv4:127.0.0.1:{server.grpc_port}"), (2, f"ipv6:[::1]:{server.grpc_port}")):
        with grpc.insecure_channel(target) as channel:
            code, details = call_status(lambda: stub(protos, channel).Push(make_request(protos, profile, shard=shard), timeout=20))
        assert code == grpc.StatusCode.OK, (target, code, details)
    # Acknowledged only once durable: each push's shard already has its object.
    check_objects(protos, server.data_dir, {1, 2})
    assert any(f"grpc=[::]:{server.grpc_port} http=[::]:{server.http_port}" in line for line in server.lines)
    for host in ("127.0.0.1", "[::1]"):
        with urllib.request.urlopen(f"http://{host}:{server.http_port}/ready", timeout=5) as response:
            assert response.status == 200, host


def test_loadgen_dials_a_bracketed_ipv6_target(server):
    loadgen = bin_dir() / "loadgen"
    assert loadgen.exists(), "run `swift build --product loadgen` first"
    out = subprocess.run(
        [str(loadgen), "--target", f"[::1]:{server.grpc_port}", "--corpus", str(TESTDATA / "pprof"),
         "--duration", "2s", "--warmup", "1s", "--connections", "1", "--streams", "4", "--json", "--quiet"],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)["run"]
    assert run["throughput"]["ackedProfiles"] > 0
    assert run["errors"]["total"] == 0, run["errors"]
