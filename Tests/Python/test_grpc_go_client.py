"""The writer as Pyroscope's distributors reach it: through grpc-go. Tests/Peers/grpc-go-client is
Debian's grpc-go with the options of the distributors' segment-writer client (§1.6); it pushes the
corpus over one connection, compressed requests, bad requests, a 24 MiB message, calls that time
out or are cancelled, Pushes in flight at SIGTERM and one waiting through keepalive pings, and
checks and watches health."""
import json
import signal
import socket
import subprocess
import threading
import time
from types import SimpleNamespace

import pytest

from conftest import TESTDATA
from go_peers import go_peer
from protowire import uvarint
from server_process import SegmentWriterProcess, metric_values
from test_segment_writer_server import INVALID, check_objects

PPROF = TESTDATA / "pprof"
VALID = sorted(p for p in PPROF.iterdir() if p.is_file() and p.name not in INVALID)


def client_binary():
    return go_peer("grpc-go-client", "client", "GRPC_GO_CLIENT")


def run_client(server, *args, timeout=120):
    """Runs the client against `server`; its JSON lines, one per call (or health status)."""
    out = subprocess.run([str(client_binary()), "-target", server.grpc_target, *args],
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def files(*paths):
    return ",".join(str(p) for p in paths)


@pytest.fixture
def server(tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=200ms")
    yield proc
    proc.kill()


def test_corpus_over_one_connection_beyond_the_stream_limit(protos, server):
    # 12 × the corpus, all at once on one ClientConn: more calls than the server's 100
    # concurrent streams, so grpc-go queues the rest until streams close, as a busy distributor.
    results = run_client(server, "-files", files(*VALID), "-repeat", "12", "-concurrency", str(12 * len(VALID)))
    assert len(results) == 12 * len(VALID)
    assert [r for r in results if r["code"] != "OK"] == []
    check_objects(protos, server.data_dir, {1})

    refused = run_client(server, "-files", files(*(PPROF / name for name in sorted(INVALID))))
    assert [r["code"] for r in refused] == ["InvalidArgument"] * len(INVALID), refused


@pytest.mark.parametrize("compression", ["gzip", "snappy"])
def test_compressed_requests(protos, server, compression):
    results = run_client(server, "-files", files(PPROF / "heap", PPROF / "profile_java"), "-compression", compression,
                         "-concurrency", "2")
    assert [r["code"] for r in results] == ["OK", "OK"], results
    check_objects(protos, server.data_dir, {1})


def test_bad_requests_get_the_statuses_distributors_expect(server):
    heap = PPROF / "heap"
    cases = [
        (["-files", files(heap), "-tenant", ""], "no org id"),
        (["-files", files(heap), "-id-bytes", "15"], "invalid UUID (got 15 bytes)"),
        (["-files", "/dev/null"], "gzip reset: EOF"),
    ]
    for args, message in cases:
        [result] = run_client(server, *args)
        assert (result["code"], result["message"]) == ("InvalidArgument", message), args


def test_deadlines_and_cancellations_end_calls_and_the_writer_goes_on(tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=3s")
    try:
        java = files(PPROF / "profile_java")
        [late] = run_client(proc, "-files", java, "-timeout", "300ms")
        assert late["code"] == "DeadlineExceeded" and late["ms"] < 2500, late
        [cancelled] = run_client(proc, "-files", java, "-cancel-after", "200ms")
        assert cancelled["code"] == "Canceled" and cancelled["ms"] < 2500, cancelled
        [answered] = run_client(proc, "-files", java, "-timeout", "10s")
        assert answered["code"] == "OK", answered
    finally:
        proc.kill()


def test_health_check_and_watch_follow_the_drain(server):
    assert run_client(server, "-mode", "health") == [{"code": "OK", "status": "SERVING"}]
    watch = subprocess.Popen([str(client_binary()), "-target", server.grpc_target, "-mode", "watch"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert json.loads(watch.stdout.readline()) == {"code": "OK", "status": "SERVING"}
        server.proc.send_signal(signal.SIGTERM)
        assert json.loads(watch.stdout.readline()) == {"code": "OK", "status": "NOT_SERVING"}
        assert server.proc.wait(30) == 0
    finally:
        watch.kill()
        watch.wait()


def test_a_large_message_flows_through_the_windows_and_is_refused_by_size(server, tmp_path):
    # 24 MiB on one stream: grpc-go sends it only as far as the flow-control windows our server
    # opens, the whole message arrives, and the profile (raw, past the decompressed-size bound,
    # an unknown field 100 padding it) gets the distributors' INVALID_ARGUMENT, no transport error.
    pad = 24 << 20
    big = tmp_path / "big.pprof"
    big.write_bytes((PPROF / "profile_uncompressed").read_bytes() + uvarint(100 << 3 | 2) + uvarint(pad) + bytes(pad))
    [result] = run_client(server, "-files", files(big))
    assert result["code"] == "InvalidArgument", result
    assert result["message"].startswith("decompressed size exceeds maximum allowed size of"), result
    [after] = run_client(server, "-files", files(PPROF / "profile_java"))
    assert after["code"] == "OK", after


def test_pushes_in_flight_at_sigterm_are_flushed_and_answered_ok(tmp_path):
    # A 5 s segment holds every Push when SIGTERM arrives: the drain flushes it, and each waiting
    # grpc-go call gets its OK (with the message) before the connection goes.
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=5s")
    try:
        client = subprocess.Popen([str(client_binary()), "-target", proc.grpc_target, "-files", files(*VALID),
                                   "-concurrency", str(len(VALID))], stdout=subprocess.PIPE, text=True)
        # Counted when a Push's whole message is in and admitted: a call whose headers arrived but whose
        # message follows the SIGTERM is refused UNAVAILABLE (the distributor retries elsewhere).
        received = 'pyroscope_request_message_bytes_count{method="gRPC",route="/segmentwriter.v1.SegmentWriterService/Push"}'
        deadline = time.monotonic() + 10
        while metric_values(proc).get(received, 0) < len(VALID):
            assert time.monotonic() < deadline, "the pushes never all arrived"
            time.sleep(0.05)
        started = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        out, _ = client.communicate(timeout=30)
        results = [json.loads(line) for line in out.splitlines()]
        assert [r["code"] for r in results] == ["OK"] * len(VALID), results
        assert time.monotonic() - started < 4, "answered by the drain's flush, not the segment's end"
        assert proc.proc.wait(30) == 0
    finally:
        proc.kill()


class WatchingRelay:
    """A loopback relay in front of the writer's gRPC port that passes every byte of every
    connection through, counts the connections, and notes when the client sends a PING (not an
    acknowledgement), reading its HTTP/2 frames."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.client_pings = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()

    def _pump(self, source, sink, count):
        buf, preface = b"", 24 if count else 0
        try:
            while data := source.recv(65536):
                sink.sendall(data)
                if not count:
                    continue
                buf += data
                if preface:
                    cut = min(preface, len(buf))
                    buf, preface = buf[cut:], preface - cut
                while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
                    if buf[3] == 6 and not buf[4] & 1:
                        self.client_pings.append(time.monotonic())
                    buf = buf[9 + int.from_bytes(buf[:3], "big"):]
        except OSError:
            pass  # either side went away (the test ends by killing the server)
        finally:
            sink.close()

    def close(self):
        self.listener.close()


def test_keepalive_pings_during_a_waiting_push_do_not_end_it(tmp_path):
    # §7 check 7 with grpc-go's own keepalive (10 s, its shortest): the Push waits 21 s for its
    # segment while the client pings; the pings are answered and the Push ends OK.
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=21s")
    relay = WatchingRelay(proc.grpc_port)
    try:
        started = time.monotonic()
        out = subprocess.run([str(client_binary()), "-target", f"127.0.0.1:{relay.port}", "-keepalive", "10s",
                              "-files", files(PPROF / "profile_java")], capture_output=True, text=True, timeout=60)
        answered = time.monotonic()
        [result] = [json.loads(line) for line in out.stdout.splitlines()]
        assert result["code"] == "OK" and result["ms"] > 10_000, result
        waiting = [t - started for t in relay.client_pings if started + 9 < t < answered - 1]
        assert waiting, f"no keepalive PING while the Push waited: {[t - started for t in relay.client_pings]}"
    finally:
        relay.close()
        proc.kill()


def test_grpc_go_carries_its_pushes_across_max_age_goaways(tmp_path):
    # dskit's -server.grpc.keepalive.max-connection-age on our side: every half second a connection
    # gets GOAWAY while eight of grpc-go's Pushes are in flight on it. Those finish on it (grace
    # 5 s), the next ones go to a new connection; every Push ends OK.
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc.keepalive.max-connection-age=500ms",
                                "-server.grpc.keepalive.max-connection-age-grace=5s", "-segment-writer.segment-duration=100ms")
    relay = WatchingRelay(proc.grpc_port)
    try:
        results = run_client(SimpleNamespace(grpc_target=f"127.0.0.1:{relay.port}"), "-files", files(*VALID), "-repeat", "6", "-concurrency", "8")
        assert len(results) == 6 * len(VALID)
        assert {r["code"] for r in results} == {"OK"}, [r for r in results if r["code"] != "OK"][:3]
        assert relay.connections >= 3, "the connections were not aged out"
    finally:
        relay.close()
        proc.kill()
