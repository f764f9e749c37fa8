"""-shutdown-delay against the built binary: after SIGTERM the server keeps serving Pushes while
/ready answers 503, then drains and exits 0; a second SIGTERM ends the delay at once."""
import signal
import time
import urllib.error
import urllib.request

import grpc

from conftest import TESTDATA
from server_process import SegmentWriterProcess
from test_segment_writer_server import blocks, call_status, check_objects, make_request, stub

PROFILE = (TESTDATA / "pprof" / "heap").read_bytes()


def ready(proc):
    """(status, body) of GET /ready."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{proc.http_port}/ready", timeout=2) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_not_ready(proc, within_s):
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        status, body = ready(proc)
        if status == 503:
            return body
        time.sleep(0.02)
    raise AssertionError("/ready still 200 after the signal:\n" + "".join(proc.lines))


def test_push_during_the_delay_is_answered_and_ready_is_503(protos, tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-shutdown-delay=2s", "-segment-writer.segment-duration=100ms")
    try:
        with grpc.insecure_channel(proc.grpc_target) as channel:
            push = stub(protos, channel).Push
            assert call_status(lambda: push(make_request(protos, PROFILE, shard=1), timeout=5))[0] == grpc.StatusCode.OK
            assert ready(proc) == (200, b"ready\n")
            signalled = time.monotonic()
            proc.proc.send_signal(signal.SIGTERM)
            assert wait_not_ready(proc, 0.5) == b"Segment Writer shutting down\n"
            code, details = call_status(lambda: push(make_request(protos, PROFILE, shard=5), timeout=5))
            assert code == grpc.StatusCode.OK, details
            # Acknowledged only once its segment was durable: the object is there already.
            assert any(p.parts[-4] == "5" for p in blocks(proc.data_dir))
            time.sleep(max(0.0, signalled + 1.0 - time.monotonic()))
            assert proc.proc.poll() is None, "exited before the delay ended"
            assert call_status(lambda: push(make_request(protos, PROFILE, shard=6), timeout=5))[0] == grpc.StatusCode.OK
        assert proc.proc.wait(10) == 0, "".join(proc.lines)
        assert time.monotonic() - signalled >= 2.0
        check_objects(protos, proc.data_dir, {1, 5, 6})
        log = "".join(proc.lines)
        assert log.index("shutdown delayed") < log.index("draining")
    finally:
        proc.kill()


def test_second_signal_skips_the_rest_of_the_delay(tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-shutdown-delay=30s")
    try:
        proc.proc.send_signal(signal.SIGTERM)
        wait_not_ready(proc, 0.5)
        signalled = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        assert proc.proc.wait(5) == 0, "".join(proc.lines)
        assert time.monotonic() - signalled < 2.0
        assert "second shutdown signal" in "".join(proc.lines)
    finally:
        proc.kill()


def test_without_a_ring_the_drain_starts_at_once(tmp_path):
    """-segment-writer.min-ready-duration (30 s by default) only holds a writer that is in a ring:
    no distributor can have a stale view of one that never registered."""
    proc = SegmentWriterProcess(tmp_path / "data")
    try:
        signalled = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        assert proc.proc.wait(10) == 0, "".join(proc.lines)
        assert time.monotonic() - signalled < 5.0
        assert "ring entry leaving" not in "".join(proc.lines)
    finally:
        proc.kill()
