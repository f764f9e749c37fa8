"""HTTP/2 edge cases against the segment-writer binary with raw frames (hpack from the `h2`
package): each misbehaving client gets its error and never blocks another connection's Push."""
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
import uuid

import grpc
import hpack
import pytest

from conftest import TESTDATA
from server_process import SegmentWriterProcess, metric_values
from test_segment_writer_server import call_status, health_check, make_request, stub

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
PROTOCOL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR = 1, 3, 6, 7, 8, 9


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


class RawClient:
    def __init__(self, port, preface=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.buffer = b""
        if preface:
            self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))

    def send(self, data):
        self.sock.sendall(data)

    def headers(self, stream, path, end_stream=False, extra=()):
        fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
                  ("content-type", "application/grpc"), ("te", "trailers"), *extra]
        block = self.encoder.encode(fields)
        return frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0), stream, block)

    def frames(self, until, timeout=5.0):
        """Reads frames until `until(kind, flags, stream, payload)` is true; returns all read."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while len(self.buffer) >= 9:
                length = int.from_bytes(self.buffer[:3], "big")
                if len(self.buffer) < 9 + length:
                    break
                kind, flags = self.buffer[3], self.buffer[4]
                stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
                payload = self.buffer[9:9 + length]
                self.buffer = self.buffer[9 + length:]
                if kind == SETTINGS and not flags & ACK:
                    try:
                        self.send(frame(SETTINGS, ACK, 0))
                    except OSError:
                        pass
                if kind == HEADERS:
                    payload = self.decoder.decode(payload)
                seen.append((kind, flags, stream, payload))
                if until(kind, flags, stream, payload):
                    return seen
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return seen
            if not chunk:
                return seen
            self.buffer += chunk
        return seen

    def close(self):
        self.sock.close()


def grpc_message(body):
    return b"\x00" + struct.pack(">I", len(body)) + body


@pytest.fixture
def server(tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=200ms",
                                "-server.graceful-shutdown-timeout=2s")
    yield proc
    proc.kill()


def push_ok(protos, server):
    req = make_request(protos, (TESTDATA / "pprof" / "heap").read_bytes(), shard=2)
    with grpc.insecure_channel(server.grpc_target) as channel:
        return call_status(lambda: stub(protos, channel).Push(req, timeout=10))[0] == grpc.StatusCode.OK


def goaway_code(frames):
    codes = [struct.unpack(">II", p[:8])[1] for k, _, _, p in frames if k == GOAWAY]
    return codes[0] if codes else None


def test_bad_preface_gets_goaway_and_close(protos, server):
    c = RawClient(server.grpc_port, preface=False)
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    seen = c.frames(lambda *f: False, timeout=3)
    assert goaway_code(seen) == PROTOCOL_ERROR
    try:
        assert c.sock.recv(10) == b""
    except ConnectionResetError:
        pass
    c.close()
    assert push_ok(protos, server)


def test_oversized_frame_is_frame_size_error(protos, server):
    c = RawClient(server.grpc_port)
    c.send(c.headers(1, "/segmentwriter.v1.SegmentWriterService/Push"))
    c.send(frame(DATA, 0, 1, b"\x00" * 20000))  # above the default 16384 SETTINGS_MAX_FRAME_SIZE
    seen = c.frames(lambda k, *_: k == GOAWAY)
    assert goaway_code(seen) == FRAME_SIZE_ERROR
    c.close()
    assert push_ok(protos, server)


def test_stream_reset_mid_message_then_same_connection_works(protos, server):
    body = make_request(protos, (TESTDATA / "pprof" / "heap").read_bytes(), shard=1).SerializeToString()
    message = grpc_message(body)
    c = RawClient(server.grpc_port)
    # The server's connection window (WINDOW_UPDATE on stream 0) before sending more than 64 KiB.
    c.frames(lambda k, f, s, p: k == WINDOW_UPDATE and s == 0)
    c.send(c.headers(1, "/segmentwriter.v1.SegmentWriterService/Push"))
    half = message[: len(message) // 2]
    for i in range(0, len(half), 16384):
        c.send(frame(DATA, 0, 1, half[i:i + 16384]))
    c.send(frame(RST_STREAM, 0, 1, struct.pack(">I", CANCEL)))
    c.send(c.headers(3, "/segmentwriter.v1.SegmentWriterService/Push"))
    for i in range(0, len(message), 16384):
        chunk = message[i:i + 16384]
        c.send(frame(DATA, END_STREAM if i + 16384 >= len(message) else 0, 3, chunk))
    seen = c.frames(lambda k, f, s, p: s == 3 and k == HEADERS and f & END_STREAM, timeout=10)
    assert seen and seen[-1][0] == HEADERS, [(k, f, s, p if k != DATA else len(p)) for k, f, s, p in seen]
    trailers = dict(seen[-1][3])
    assert trailers.get("grpc-status") == "0", seen
    assert not any(s == 1 and k in (DATA, HEADERS) for k, _, s, _ in seen), "the reset stream got no answer"
    c.close()


def test_flow_control_violation_is_flow_control_error(protos, server):
    c = RawClient(server.grpc_port)
    # RFC 9113 §6.9.1: a WINDOW_UPDATE that takes the connection's send window past 2^31-1
    # (it starts at 65535) is a connection error FLOW_CONTROL_ERROR. The receive side is
    # covered by the sans-I/O tests; on a socket the server's replenishing makes it racy.
    c.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7FFFFFFF)))
    seen = c.frames(lambda k, *_: k == GOAWAY)
    assert goaway_code(seen) == FLOW_CONTROL_ERROR, seen
    c.close()
    assert push_ok(protos, server)


def test_hpack_garbage_is_compression_error(protos, server):
    c = RawClient(server.grpc_port)
    # 0xff...: an indexed field with an index far past the static and dynamic tables.
    c.send(frame(HEADERS, END_HEADERS, 1, b"\xff\xff\xff\xff\x0f"))
    seen = c.frames(lambda k, *_: k == GOAWAY)
    assert goaway_code(seen) == COMPRESSION_ERROR
    c.close()
    assert push_ok(protos, server)


def test_too_many_streams_are_refused(protos, server):
    c = RawClient(server.grpc_port)
    for i in range(101):
        c.send(c.headers(1 + 2 * i, "/segmentwriter.v1.SegmentWriterService/Push"))
    seen = c.frames(lambda k, f, s, p: k == RST_STREAM, timeout=5)
    resets = [(s, struct.unpack(">I", p)[0]) for k, _, s, p in seen if k == RST_STREAM]
    assert resets == [(201, REFUSED_STREAM)]
    assert push_ok(protos, server)
    c.close()


def test_client_that_never_reads_does_not_block_others(protos, server):
    c = RawClient(server.grpc_port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stop = threading.Event()
    sent = [0]

    def flood():
        # Two PINGs, then a health check whose answer (HEADERS) forgives them: the server's
        # ping policy ends a connection that only pings. Every frame asks for output.
        c.sock.settimeout(0.5)
        stream = 1
        while not stop.is_set():
            burst = b""
            for _ in range(64):
                burst += frame(PING, 0, 0, b"\x00" * 8) * 2 + c.headers(stream, "/grpc.health.v1.Health/Check")
                burst += frame(DATA, END_STREAM, stream, grpc_message(b""))
                stream += 2
            try:
                c.sock.sendall(burst)
                sent[0] += len(burst)
            except (socket.timeout, OSError):
                return  # the server stopped reading: its queues are full (a partial frame ends the flood)

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    time.sleep(1.0)
    start = time.monotonic()
    assert push_ok(protos, server)
    assert time.monotonic() - start < 5
    stop.set()
    t.join(5)
    assert sent[0] > 1 << 20, "the flood should have filled the server's queues"
    c.close()


def test_drain_refuses_new_pushes_reports_not_ready_then_exits_zero(protos, server):
    # A Push whose message never arrives keeps the drain waiting (graceful timeout 2 s).
    c = RawClient(server.grpc_port)
    c.send(c.headers(1, "/segmentwriter.v1.SegmentWriterService/Push"))
    c.frames(lambda k, f, s, p: k == SETTINGS and f & ACK, timeout=2)
    server.proc.send_signal(15)
    time.sleep(0.3)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/ready", timeout=5)
    assert e.value.code == 503
    req = make_request(protos, (TESTDATA / "pprof" / "heap").read_bytes())
    with grpc.insecure_channel(server.grpc_target) as channel:
        code, details = call_status(lambda: stub(protos, channel).Push(req, timeout=5))
        assert (code, details) == (grpc.StatusCode.UNAVAILABLE, "service is unavailable")
        assert health_check(channel, "pyroscope.segment-writer") == b"\x08\x02"
    assert server.proc.wait(10) == 0
    c.close()


def test_grpc_timeout_while_parked_is_deadline_exceeded(protos, tmp_path):
    """§7 check 4: grpc-timeout 200m and a 3 s segment: DEADLINE_EXCEEDED from the server's own
    timer (no client-side deadline races it), counted in the wait-timeouts metric."""
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=3s")
    try:
        body = make_request(protos, (TESTDATA / "pprof" / "profile_python").read_bytes()).SerializeToString()
        c = RawClient(proc.grpc_port)
        c.frames(lambda k, f, s, p: k == WINDOW_UPDATE and s == 0)
        start = time.monotonic()
        c.send(c.headers(1, "/segmentwriter.v1.SegmentWriterService/Push", extra=[("grpc-timeout", "200m")]))
        c.send(frame(DATA, END_STREAM, 1, grpc_message(body)))
        seen = c.frames(lambda k, f, s, p: s == 1 and k == HEADERS and f & END_STREAM, timeout=5)
        elapsed = time.monotonic() - start
        trailers = dict(seen[-1][3])
        assert trailers.get("grpc-status") == "4", seen
        assert "deadline exceeded" in trailers.get("grpc-message", "")
        assert 0.15 < elapsed < 2
        with urllib.request.urlopen(f"http://127.0.0.1:{proc.http_port}/metrics", timeout=5) as r:
            assert 'pyroscope_segment_ingester_wait_timeouts{tenant="anonymous"} 1' in r.read().decode()
        c.close()
    finally:
        proc.kill()


def test_largest_grpc_timeout_is_served(protos, server):
    """grpc-timeout 99999999H (the largest value) must not upset the deadline timer."""
    body = make_request(protos, (TESTDATA / "pprof" / "heap").read_bytes(), shard=2).SerializeToString()
    c = RawClient(server.grpc_port)
    c.frames(lambda k, f, s, p: k == WINDOW_UPDATE and s == 0)
    c.send(c.headers(1, "/segmentwriter.v1.SegmentWriterService/Push", extra=[("grpc-timeout", "99999999H")]))
    message = grpc_message(body)
    for i in range(0, len(message), 16384):
        c.send(frame(DATA, END_STREAM if i + 16384 >= len(message) else 0, 1, message[i:i + 16384]))
    seen = c.frames(lambda k, f, s, p: s == 1 and k == HEADERS and f & END_STREAM, timeout=10)
    assert dict(seen[-1][3]).get("grpc-status") == "0", seen
    c.close()


class StallingSender:
    """Opens Push calls that announce large messages and send only part of each, as fast as the
    server's flow-control windows allow, then stall: what a slow or stuck client holds."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.encoder, self.decoder = hpack.Encoder(), hpack.Decoder()
        self.changed = threading.Condition()
        self.connection_window, self.initial_window = 65535, 65535
        self.windows, self.finished = {}, {}
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                return
            buffer += chunk
            while len(buffer) >= 9 and len(buffer) >= 9 + int.from_bytes(buffer[:3], "big"):
                length = int.from_bytes(buffer[:3], "big")
                kind, flags = buffer[3], buffer[4]
                stream = int.from_bytes(buffer[5:9], "big") & 0x7FFFFFFF
                payload, buffer = buffer[9:9 + length], buffer[9 + length:]
                with self.changed:
                    self._on_frame(kind, flags, stream, payload)
                    self.changed.notify_all()

    def _on_frame(self, kind, flags, stream, payload):
        if kind == SETTINGS and not flags & ACK:
            for i in range(0, len(payload), 6):
                key, value = struct.unpack(">HI", payload[i:i + 6])
                if key == 4:  # SETTINGS_INITIAL_WINDOW_SIZE
                    for s in self.windows:
                        self.windows[s] += value - self.initial_window
                    self.initial_window = value
            self.sock.sendall(frame(SETTINGS, ACK, 0))
        elif kind == WINDOW_UPDATE:
            increment = struct.unpack(">I", payload)[0] & 0x7FFFFFFF
            if stream == 0:
                self.connection_window += increment
            elif stream in self.windows:
                self.windows[stream] += increment
        elif kind == HEADERS:
            fields = dict(self.decoder.decode(payload))
            if "grpc-status" in fields:
                self.finished[stream] = (fields["grpc-status"], fields.get("grpc-message", ""))
        elif kind == RST_STREAM:
            self.finished.setdefault(stream, ("reset", ""))

    def send_part(self, stream, announced, part):
        """Opens `stream`, announces an `announced`-byte message and sends `part` bytes of it
        (fewer if the server ends the call first)."""
        fields = [(":method", "POST"), (":scheme", "http"), (":path", "/segmentwriter.v1.SegmentWriterService/Push"),
                  (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers")]
        with self.changed:
            self.windows[stream] = self.initial_window
        self.sock.sendall(frame(HEADERS, END_HEADERS, stream, self.encoder.encode(fields)))
        data = b"\x00" + struct.pack(">I", announced) + b"\x07" * part
        sent = 0
        while sent < len(data):
            with self.changed:
                ready = self.changed.wait_for(lambda: stream in self.finished
                                              or min(self.connection_window, self.windows[stream]) > 0, timeout=10)
                if not ready or stream in self.finished:
                    return
                n = min(16384, len(data) - sent, self.connection_window, self.windows[stream])
                self.connection_window -= n
                self.windows[stream] -= n
            self.sock.sendall(frame(DATA, 0, stream, data[sent:sent + n]))
            sent += n

    def close(self):
        # shutdown first: a close alone leaves the socket open while the reader thread sits in recv.
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def peak_rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def test_messages_still_arriving_count_against_the_memory_budget(protos, tmp_path):
    """A client that announces 24 messages of 32 MiB and sends 4 MiB of each (96 MiB held) against
    a 32 MiB budget: the calls past the budget end with RESOURCE_EXHAUSTED and the server's
    memory stays near the budget. While it holds the budget a Push larger than the room left is
    refused too; once it disconnects, its partial messages are given back and Pushes are
    accepted. (A partial message's room grows by doubling, so the calls it holds leave less
    than one call's room of the budget free, not nothing.)"""
    budget = 32 << 20
    proc = SegmentWriterProcess(tmp_path / "data", f"-segment-writer.memory-budget-bytes={budget}",
                                "-segment-writer.segment-max-bytes=8388608")
    try:
        before = peak_rss_bytes(proc.proc.pid)
        sender = StallingSender(proc.grpc_port)
        for k in range(24):
            sender.send_part(2 * k + 1, 32 << 20, 4 << 20)
        time.sleep(0.5)
        refused = [m for status, m in sender.finished.values() if status == "8"]
        assert 12 <= len(refused) <= 20, sender.finished
        assert all("memory budget exceeded while receiving a message of 33554432 bytes" in m for m in refused)
        growth = peak_rss_bytes(proc.proc.pid) - before
        assert growth < budget + (24 << 20), growth
        free = budget - metric_values(proc)["pyroscope_segment_writer_memory_budget_used_bytes"]
        assert 0 <= free < 2 * (4 << 20) + (1 << 20), free
        larger = make_request(protos, b"\x07" * int(free + (1 << 20)), shard=1)
        heap = make_request(protos, (TESTDATA / "pprof" / "heap").read_bytes(), shard=1)
        with grpc.insecure_channel(proc.grpc_target) as channel:
            code, details = call_status(lambda: stub(protos, channel).Push(larger, timeout=10))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "memory budget exceeded" in details
            sender.close()
            deadline = time.monotonic() + 5
            while (code := call_status(lambda: stub(protos, channel).Push(heap, timeout=10))[0]) != grpc.StatusCode.OK:
                assert time.monotonic() < deadline, code
                time.sleep(0.1)
    finally:
        proc.kill()
