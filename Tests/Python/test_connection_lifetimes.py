"""How long a connection may hold one of the writer's slots, and how many may, as Pyroscope's
server (dskit over grpc-go and Go's net/http) bounds them: the HTTP/2 handshake's timeout,
`server.grpc.keepalive.*` (keepalive pings, max idle, max age and its grace, the ping policy),
the HTTP port's read, idle and write timeouts, the per-port connection limits, and what happens
past a loop's slots. Raw sockets play the misbehaving peers; grpcio is the well-behaved client."""
import resource
import socket
import struct
import time

import grpc
import pytest

from conftest import TESTDATA
from server_process import SegmentWriterProcess, metrics_text
from test_segment_writer_http2 import ACK, GOAWAY, HEADERS, PING, RawClient, frame
from test_segment_writer_server import call_status, make_request, stub

# The loop looks at deadlines every 100 ms; a second of slack covers a busy CI host.
SLACK = 1.0


def seconds_until_closed(sock, limit=10.0):
    """Reads (and drops) until the server closes; the seconds that took, None if it did not."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < limit:
        try:
            if not sock.recv(65536):
                return time.monotonic() - start
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - start
    return None


def is_open_after(sock, seconds):
    return seconds_until_closed(sock, limit=seconds) is None


def goaway(frames):
    """(error code, debug data) of the first GOAWAY among `frames`, or None."""
    for kind, _, _, payload in frames:
        if kind == GOAWAY:
            return struct.unpack(">II", payload[:8])[1], payload[8:]
    return None


def push_status(protos, proc, profile="profile_nodejs"):
    request = make_request(protos, (TESTDATA / "pprof" / profile).read_bytes())
    with grpc.insecure_channel(proc.grpc_target) as channel:
        return call_status(lambda: stub(protos, channel).Push(request, timeout=10))[0]


def test_connections_without_a_handshake_are_closed_and_free_their_slots(protos, tmp_path):
    """96 descriptors in all and 150 clients connected that never speak: without a handshake
    timeout they would hold every slot forever (the loops cannot accept anyone else); with
    `-server.grpc-connection-timeout=1s` they are closed, and a real client's Push is served."""
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc-connection-timeout=1s", open_files=(96, 96))
    silent = []
    try:
        silent = [socket.create_connection(("127.0.0.1", proc.grpc_port), timeout=5) for _ in range(150)]
        started = time.monotonic()
        assert push_status(protos, proc) == grpc.StatusCode.OK
        # Served only once the silent ones were closed: the server had no descriptor before.
        assert time.monotonic() - started >= 0.9
        closed = [seconds_until_closed(s, limit=3.0 + SLACK) for s in silent]
        assert all(c is not None for c in closed), f"{closed.count(None)} silent connections still open"
    finally:
        for s in silent:
            s.close()
        proc.kill()


def test_a_handshaken_connection_is_not_held_to_the_connection_timeout(tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc-connection-timeout=1s")
    try:
        client = RawClient(proc.grpc_port)
        client.frames(lambda k, f, s, p: k == 4 and f & ACK)  # our SETTINGS acknowledged
        assert is_open_after(client.sock, 2.5)
        client.close()
    finally:
        proc.kill()


def test_a_client_that_stops_answering_is_pinged_then_closed(tmp_path):
    """`keepalive.time=1s`, `timeout=1s`: after a second of silence the server sends PING;
    a client that answers stays, one that does not is closed a second later."""
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc.keepalive.time=1s", "-server.grpc.keepalive.timeout=1s")
    try:
        # Three rounds of pings, each answered: still open.
        answering = RawClient(proc.grpc_port)
        answering.frames(lambda k, f, s, p: k == 4 and f & ACK)
        for _ in range(3):
            ping = answering.frames(lambda k, f, s, p: k == PING and not f & ACK, timeout=1 + 2 * SLACK)
            assert ping and ping[-1][0] == PING, "no keepalive PING within 1 s of silence"
            answering.send(frame(PING, ACK, 0, ping[-1][3]))
        assert is_open_after(answering.sock, 0.5)
        answering.close()

        silent = RawClient(proc.grpc_port)
        silent.frames(lambda k, f, s, p: k == 4 and f & ACK)
        started = time.monotonic()
        pings = silent.frames(lambda k, f, s, p: k == PING and not f & ACK, timeout=1 + 2 * SLACK)
        assert pings and pings[-1][0] == PING
        assert time.monotonic() - started >= 0.9
        waited = seconds_until_closed(silent.sock, limit=1 + 2 * SLACK)
        assert waited is not None and waited >= 0.8, f"closed after {waited} s"
        silent.close()
    finally:
        proc.kill()


def test_an_idle_connection_gets_goaway_max_idle_and_is_closed_but_not_while_a_call_is_open(tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc.keepalive.max-connection-idle=1s")
    try:
        idle = RawClient(proc.grpc_port)
        seen = idle.frames(lambda k, f, s, p: k == GOAWAY, timeout=1 + 2 * SLACK)
        assert goaway(seen) == (0, b"max_idle")
        assert seconds_until_closed(idle.sock, limit=SLACK) is not None

        busy = RawClient(proc.grpc_port)
        # A Push whose message never comes: the call is open, the connection is not idle.
        busy.send(busy.headers(1, "/segmentwriter.v1.SegmentWriterService/Push"))
        assert is_open_after(busy.sock, 2.5)
        busy.close()
    finally:
        proc.kill()


def test_at_max_age_goaway_lets_the_open_call_finish_within_the_grace(protos, tmp_path):
    """`max-connection-age=1s` (±10 %), grace 2 s: GOAWAY `max_age` arrives, the call opened
    before it is still answered, and the connection closes once that call has ended."""
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc.keepalive.max-connection-age=1s",
                                "-server.grpc.keepalive.max-connection-age-grace=2s", "-segment-writer.segment-duration=200ms")
    try:
        client = RawClient(proc.grpc_port)
        client.send(client.headers(1, "/segmentwriter.v1.SegmentWriterService/Push"))
        seen = client.frames(lambda k, f, s, p: k == GOAWAY, timeout=1.1 + 2 * SLACK)
        assert goaway(seen) == (0, b"max_age")
        body = make_request(protos, (TESTDATA / "pprof" / "profile_nodejs").read_bytes()).SerializeToString()
        client.send(frame(0, 1, 1, b"\x00" + struct.pack(">I", len(body)) + body))
        answer = client.frames(lambda k, f, s, p: k == HEADERS and f & 1, timeout=5)
        trailers = dict(answer[-1][3])
        assert trailers.get("grpc-status") == "0", trailers
        assert seconds_until_closed(client.sock, limit=SLACK) is not None
    finally:
        proc.kill()


def test_at_max_age_a_call_still_open_after_the_grace_is_cut(tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc.keepalive.max-connection-age=1s",
                                "-server.grpc.keepalive.max-connection-age-grace=1s")
    try:
        client = RawClient(proc.grpc_port)
        client.send(client.headers(1, "/segmentwriter.v1.SegmentWriterService/Push"))
        started = time.monotonic()
        assert goaway(client.frames(lambda k, f, s, p: k == GOAWAY, timeout=1.1 + 2 * SLACK)) == (0, b"max_age")
        waited = seconds_until_closed(client.sock, limit=1 + 2 * SLACK)
        assert waited is not None
        assert time.monotonic() - started >= 1.7, "closed before age + grace"
    finally:
        proc.kill()


def test_grpcio_clients_carry_on_across_max_age_goaways(protos, tmp_path):
    """A real gRPC client reconnects after each GOAWAY: three seconds of Pushes against a
    half-second age limit all succeed."""
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc.keepalive.max-connection-age=500ms",
                                "-server.grpc.keepalive.max-connection-age-grace=5s", "-segment-writer.segment-duration=100ms")
    try:
        request = make_request(protos, (TESTDATA / "pprof" / "profile_nodejs").read_bytes())
        statuses = []
        with grpc.insecure_channel(proc.grpc_target) as channel:
            end = time.monotonic() + 3
            while time.monotonic() < end:
                statuses.append(call_status(lambda: stub(protos, channel).Push(request, timeout=10))[0])
        assert len(statuses) >= 5
        assert set(statuses) == {grpc.StatusCode.OK}, statuses
    finally:
        proc.kill()


def http_get(sock, path="/ready"):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head.split(b" ")[1]


def test_http_keep_alive_connections_are_closed_after_the_idle_timeout(tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-server.http-idle-timeout=1s", "-server.http-read-timeout=10s")
    try:
        sock = socket.create_connection(("127.0.0.1", proc.http_port), timeout=5)
        assert http_get(sock) == b"200"
        time.sleep(0.5)
        assert http_get(sock) == b"200", "the idle clock starts again after each response"
        waited = seconds_until_closed(sock, limit=1 + 2 * SLACK)
        assert waited is not None and waited >= 0.8, f"closed after {waited} s"
        sock.close()
    finally:
        proc.kill()


def test_an_http_request_must_arrive_whole_within_the_read_timeout(tmp_path):
    """Bytes trickling in keep the connection busy but not alive: the read timeout counts from
    the request's first byte, not from the last read (Go's ReadTimeout)."""
    proc = SegmentWriterProcess(tmp_path / "data", "-server.http-read-timeout=1s")
    try:
        sock = socket.create_connection(("127.0.0.1", proc.http_port), timeout=5)
        started = time.monotonic()
        closed = False
        for byte in b"GET /ready HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.05)
            if time.monotonic() - started > 3 + SLACK:
                break
        waited = seconds_until_closed(sock, limit=SLACK) if not closed else 0
        assert waited is not None, "a request trickling in for seconds was not cut"
        assert time.monotonic() - started < 2 + 2 * SLACK
        sock.close()
    finally:
        proc.kill()


def test_an_http_request_head_must_arrive_within_the_read_header_timeout(tmp_path):
    """Go's ReadHeaderTimeout: the head within it, the body within the (longer) read timeout."""
    proc = SegmentWriterProcess(tmp_path / "data", "-server.http-read-header-timeout=1s", "-server.http-read-timeout=6s")
    try:
        slow_head = socket.create_connection(("127.0.0.1", proc.http_port), timeout=5)
        slow_head.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\n")
        waited = seconds_until_closed(slow_head, limit=1 + 2 * SLACK)
        assert waited is not None and waited >= 0.8, f"a head not done after 1 s: closed after {waited} s"
        slow_head.close()

        slow_body = socket.create_connection(("127.0.0.1", proc.http_port), timeout=5)
        slow_body.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
        assert is_open_after(slow_body, 2.5), "a whole head lets the body take the read timeout"
        slow_body.sendall(b"cd")
        slow_body.settimeout(5)
        assert slow_body.recv(65536).startswith(b"HTTP/1.1 200")
        slow_body.close()
    finally:
        proc.kill()


def test_grpc_conn_limit_keeps_further_connections_waiting_until_one_closes(protos, tmp_path):
    """`-server.grpc-conn-limit=2` over two loops: a third connection is not served (no
    SETTINGS from the server) while two are open, then is once one of them closes."""
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc-conn-limit=2")
    try:
        first, second = RawClient(proc.grpc_port), RawClient(proc.grpc_port)
        for client in (first, second):
            assert client.frames(lambda k, f, s, p: k == 4 and f & ACK)[-1][0] == 4
        third = RawClient(proc.grpc_port)
        assert third.frames(lambda k, f, s, p: k == 4, timeout=1.0) == [], "a third connection was served"
        first.close()
        assert third.frames(lambda k, f, s, p: k == 4, timeout=5.0)[-1][0] == 4
        second.close()
        third.close()
        assert push_status(protos, proc) == grpc.StatusCode.OK
        metrics = metrics_text(proc)
        assert 'pyroscope_tcp_connections_limit{protocol="grpc"} 2' in metrics
        assert 'pyroscope_tcp_connections_limit{protocol="http"} 0' in metrics
    finally:
        proc.kill()


def test_http_conn_limit_keeps_further_connections_waiting_until_one_closes(tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-server.http-conn-limit=1")
    try:
        held = socket.create_connection(("127.0.0.1", proc.http_port), timeout=5)
        assert http_get(held) == b"200"
        waiting = socket.create_connection(("127.0.0.1", proc.http_port), timeout=5)
        waiting.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\n\r\n")
        waiting.settimeout(1.0)
        try:
            answered = waiting.recv(65536)
        except socket.timeout:
            answered = b""
        assert answered == b"", "a second HTTP connection was served"
        held.close()
        waiting.settimeout(5.0)
        assert waiting.recv(65536).startswith(b"HTTP/1.1 200")
        waiting.close()
    finally:
        proc.kill()


def test_a_ping_flood_gets_goaway_too_many_pings(tmp_path):
    """Pyroscope's policy (`min-time-between-pings=1s`, no pings without a call): the fourth
    PING on an idle connection, with nothing sent by the server between, ends it with GOAWAY
    ENHANCE_YOUR_CALM `too_many_pings`, the words grpc clients back off on."""
    proc = SegmentWriterProcess(tmp_path / "data")
    try:
        client = RawClient(proc.grpc_port)
        client.frames(lambda k, f, s, p: k == 4 and f & ACK)
        client.send(b"".join(frame(PING, 0, 0, bytes(8)) for _ in range(4)))
        seen = client.frames(lambda k, f, s, p: k == GOAWAY)
        assert goaway(seen) == (11, b"too_many_pings")
        assert [k for k, f, _, _ in seen].count(PING) == 4, "every PING is still answered"
        assert seconds_until_closed(client.sock, limit=SLACK) is not None
    finally:
        proc.kill()


def test_a_grpc_client_that_pings_too_often_is_told_so_and_still_pushes(protos, tmp_path):
    """grpcio with keepalive pings every second, even without calls: the server's GOAWAY
    `too_many_pings` makes it back off and reconnect, and its Pushes are served."""
    proc = SegmentWriterProcess(tmp_path / "data")
    options = [("grpc.keepalive_time_ms", 1000), ("grpc.keepalive_timeout_ms", 1000),
               ("grpc.keepalive_permit_without_calls", 1), ("grpc.http2.max_pings_without_data", 0)]
    try:
        request = make_request(protos, (TESTDATA / "pprof" / "profile_nodejs").read_bytes())
        with grpc.insecure_channel(proc.grpc_target, options=options) as channel:
            assert call_status(lambda: stub(protos, channel).Push(request, timeout=10))[0] == grpc.StatusCode.OK
            time.sleep(5)
            assert call_status(lambda: stub(protos, channel).Push(request, timeout=10))[0] == grpc.StatusCode.OK
    finally:
        proc.kill()


def test_an_http_client_that_does_not_take_its_responses_is_cut_at_the_write_timeout(tmp_path):
    """Pipelined `/metrics` requests from a client that never reads: once the kernel's buffers
    are full the responses queue in the server, which closes the connection when they are
    still there a write timeout (1 s) later, instead of holding them and the slot for ever."""
    proc = SegmentWriterProcess(tmp_path / "data", "-server.http-write-timeout=1s", "-server.http-read-timeout=60s",
                                "-server.http-idle-timeout=60s")
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", proc.http_port))
        request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
        sock.settimeout(0.5)
        sent = 0
        try:
            while sent < 4096 * len(request):
                sock.sendall(request * 64)
                sent += 64 * len(request)
        except (socket.timeout, OSError):
            pass  # the server stopped reading: its queue is above the high watermark
        time.sleep(1 + 2 * SLACK)
        # Whatever the kernel buffered arrives, then the reset or end of the cut connection.
        assert seconds_until_closed(sock, limit=5) is not None
        sock.close()
        with socket.create_connection(("127.0.0.1", proc.http_port), timeout=5) as other:
            assert http_get(other) == b"200"
    finally:
        proc.kill()


def grpc_connections(proc):
    metrics = metrics_text(proc)
    line = next(l for l in metrics.splitlines() if l.startswith('pyroscope_tcp_connections{protocol="grpc"}'))
    return int(float(line.split()[-1]))


def test_a_connection_closing_to_a_peer_that_does_not_read_is_cut_at_the_keepalive_timeout(tmp_path):
    """The client floods SETTINGS (each acknowledged; SETTINGS ACKs are not flow-controlled)
    and never reads, so acknowledgements queue in the server; at `max-connection-idle` the
    connection gets GOAWAY and an orderly close that can never finish: a keepalive timeout
    (1 s) later the server drops it, the client still not reading. The idle limit leaves the
    flood time to fill the buffers on a busy host (it once took over 2 s)."""
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc.keepalive.max-connection-idle=5s",
                                "-server.grpc.keepalive.timeout=1s")
    try:
        client = RawClient(proc.grpc_port)
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.sock.settimeout(0.5)
        burst = frame(4, 0, 0) * 8192
        try:
            while True:
                client.sock.sendall(burst)
        except (socket.timeout, OSError):
            pass  # the server stopped reading: its queue is above the high watermark
        assert grpc_connections(proc) == 1, "closed before the idle limit"
        deadline = time.monotonic() + 6 + 3 * SLACK
        while time.monotonic() < deadline and grpc_connections(proc) != 0:
            time.sleep(0.1)
        assert grpc_connections(proc) == 0, "the closing connection is still held"
        client.close()
    finally:
        proc.kill()


def test_connections_beyond_a_loops_slots_are_refused_counted_and_logged(tmp_path):
    """One loop, 4 096 connection slots: the connections past them are closed as soon as
    accepted, counted in `pyroscope_tcp_connections_refused_total` and reported in the log
    (once per 10 s however many there are)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Raising the hard limit needs CAP_SYS_RESOURCE; without it a lower limit fails the test.
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4400), max(hard, 4400)))
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.event-loops=1")
    clients = []
    try:
        clients = [socket.create_connection(("127.0.0.1", proc.grpc_port), timeout=5) for _ in range(4110)]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("connection refused: every connection slot" in l for l in proc.lines):
            time.sleep(0.1)
        warnings = [l for l in proc.lines if "connection refused: every connection slot" in l]
        assert len(warnings) == 1, warnings
        assert f"port={proc.grpc_port}" in warnings[0] and "slots_per_loop=4096" in warnings[0]
        for c in clients[:50]:
            c.close()
        time.sleep(0.5)  # the server sees the 50 go and frees their slots
        metrics = metrics_text(proc)
        refused = next(l for l in metrics.splitlines() if l.startswith("pyroscope_tcp_connections_refused_total"))
        assert float(refused.split()[-1]) >= 14  # 4 110 against 4 096 slots
    finally:
        for c in clients:
            c.close()
        proc.kill()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
