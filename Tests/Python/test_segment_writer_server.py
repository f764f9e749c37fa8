"""The segment-writer binary end to end: grpcio clients push the real pprof corpus and bad
inputs; objects and DLQ metadata land in the filesystem bucket; ops HTTP, health, SIGTERM."""
import gzip
import concurrent.futures
import json
import os
import pathlib
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import grpc
import pytest

from conftest import TESTDATA
from server_process import SegmentWriterProcess, bin_dir, metric_values, metrics_text

PUSH = "/segmentwriter.v1.SegmentWriterService/Push"
# Refused by the head as upstream would panic or refuse (AccumulatorTests.RejectionTests).
INVALID = {"dotnet-pprof-3.pb.gz", "dotnet.labels.pprof", "pyspy-1.pb.gz"}
CORPUS = sorted(p for p in (TESTDATA / "pprof").iterdir() if p.is_file())


@pytest.fixture
def server(tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=200ms")
    yield proc
    proc.kill()


def push_module(protos):
    return protos.pyroscope_api__segmentwriter__v1__push_pb2, protos.pyroscope_api__segmentwriter__v1__push_pb2_grpc


def make_request(protos, profile, tenant="anonymous", service="svc", shard=1, profile_id=None):
    pb, _ = push_module(protos)
    types = protos.pyroscope_api__types__v1__types_pb2
    labels = [types.LabelPair(name="__name__", value="process_cpu"), types.LabelPair(name="service_name", value=service)]
    return pb.PushRequest(tenant_id=tenant, labels=labels, profile=profile,
                          profile_id=uuid.uuid4().bytes if profile_id is None else profile_id, shard=shard)


def stub(protos, channel):
    return push_module(protos)[1].SegmentWriterServiceStub(channel)


def call_status(fn):
    try:
        response = fn()
    except grpc.RpcError as e:
        return e.code(), e.details()
    # grpcio returns None for an OK call without a response message; grpc-go, the distributors'
    # client, fails such a call, so an OK here must carry one (an empty PushResponse).
    assert response is not None, "OK status without the response message"
    return grpc.StatusCode.OK, ""


def blocks(data_dir):
    return sorted(pathlib.Path(data_dir).glob("segments/*/anonymous/*/block.bin"))


def segtool():
    path = os.environ.get("SEGTOOL") or str(bin_dir() / "segtool")
    assert pathlib.Path(path).is_file(), f"no segtool at {path}: build it (`make python-test` does)"
    return path


def check_objects(protos, data_dir, expect_shards):
    """Every block.bin has its DLQ meta.pb; the metadata matches the object; segtool agrees."""
    meta_pb = protos.pyroscope_api__metastore__v1__types_pb2
    found = blocks(data_dir)
    assert found, "no segment objects written"
    assert {int(p.parts[-4]) for p in found} == set(expect_shards)
    datasets = 0
    for block in found:
        shard, ulid = block.parts[-4], block.parts[-2]
        meta_path = pathlib.Path(data_dir) / "dlq" / shard / "anonymous" / ulid / "meta.pb"
        assert meta_path.exists(), f"no DLQ metadata beside {block}"
        meta = meta_pb.BlockMeta.FromString(meta_path.read_bytes())
        assert meta.id == ulid and meta.shard == int(shard)
        assert meta.size == block.stat().st_size
        # The DLQ copy carries `size`; the trailer inside the object starts at metadata_offset.
        assert 0 < meta.metadata_offset < block.stat().st_size
        datasets += len(meta.datasets)
    out = subprocess.run([segtool(), "verify", *map(str, found)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return found, datasets


def test_corpus_pushed_concurrently_lands_in_segments_and_dlq(protos, server):
    work = []
    for i, path in enumerate(CORPUS):
        for tenant in ("tenant-a", "tenant-b"):
            work.append((path, tenant, f"svc-{i % 3}", 1 + (i + len(tenant)) % 4))
    channels = [grpc.insecure_channel(server.grpc_target) for _ in range(4)]
    try:
        def one(item, k):
            path, tenant, service, shard = item
            req = make_request(protos, path.read_bytes(), tenant=tenant, service=service, shard=shard)
            return item, call_status(lambda: stub(protos, channels[k % 4]).Push(req, timeout=20))

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(one, work, range(len(work))))
    finally:
        for c in channels:
            c.close()
    for (path, tenant, _, _), (code, details) in results:
        if path.name in INVALID:
            assert code == grpc.StatusCode.INVALID_ARGUMENT, (path.name, code, details)
        else:
            assert code == grpc.StatusCode.OK, (path.name, tenant, code, details)
    shards = {s for (p, _, _, s), (code, _) in results if code == grpc.StatusCode.OK}
    _, datasets = check_objects(protos, server.data_dir, shards)
    assert datasets >= 2
    out = subprocess.run([segtool(), "inspect", "--json", str(blocks(server.data_dir)[0])], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["datasets"] and {d["tenant"] for d in summary["datasets"]} <= {"tenant-a", "tenant-b"}


def test_bad_inputs_get_their_status(protos, server):
    profile = (TESTDATA / "pprof" / "heap").read_bytes()
    with grpc.insecure_channel(server.grpc_target) as channel:
        s = stub(protos, channel)
        cases = [
            (make_request(protos, profile, tenant=""), grpc.StatusCode.INVALID_ARGUMENT, "no org id"),
            (make_request(protos, profile, profile_id=b"x" * 15), grpc.StatusCode.INVALID_ARGUMENT, "invalid UUID (got 15 bytes)"),
            (make_request(protos, b""), grpc.StatusCode.INVALID_ARGUMENT, "gzip reset: EOF"),
            (make_request(protos, b"\x01\x02\x03\x04\x05"), grpc.StatusCode.INVALID_ARGUMENT, "gzip reset: unexpected EOF"),
            (make_request(protos, b"\xff" * 64), grpc.StatusCode.INVALID_ARGUMENT, None),
        ]
        for req, want, text in cases:
            code, details = call_status(lambda: s.Push(req, timeout=10))
            assert code == want, (req.tenant_id, code, details)
            if text:
                assert details == text
        unknown = channel.unary_unary("/segmentwriter.v1.SegmentWriterService/Nope",
                                      request_serializer=lambda b: b, response_deserializer=lambda b: b)
        code, details = call_status(lambda: unknown(b"", timeout=5))
        assert code == grpc.StatusCode.UNIMPLEMENTED
        code, _ = call_status(lambda: channel.unary_unary("/other.Service/Push", request_serializer=lambda b: b,
                                                          response_deserializer=lambda b: b)(b"", timeout=5))
        assert code == grpc.StatusCode.UNIMPLEMENTED
        # The server still serves a good Push after all that.
        assert call_status(lambda: s.Push(make_request(protos, profile), timeout=10))[0] == grpc.StatusCode.OK


def health_check(channel, service):
    check = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)
    name = service.encode()
    body = (b"\x0a" + bytes([len(name)]) + name) if name else b""
    return check(body, timeout=5)


def test_ready_metrics_and_health(protos, server):
    base = f"http://127.0.0.1:{server.http_port}"
    with urllib.request.urlopen(base + "/ready", timeout=5) as r:
        assert r.status == 200 and r.read() == b"ready\n"
    with grpc.insecure_channel(server.grpc_target) as channel:
        assert call_status(lambda: stub(protos, channel).Push(
            make_request(protos, (TESTDATA / "pprof" / "heap").read_bytes(), shard=3), timeout=10))[0] == grpc.StatusCode.OK
        assert health_check(channel, "") == b"\x08\x01"
        assert health_check(channel, "pyroscope.segment-writer") == b"\x08\x01"
        code, _ = call_status(lambda: health_check(channel, "no.such.service"))
        assert code == grpc.StatusCode.NOT_FOUND
    with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
        text = r.read().decode()
    values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line and not line.startswith("#")}
    # As upstream: the decoded profile's size, and the head metrics of the acknowledged Push.
    heap = gzip.decompress((TESTDATA / "pprof" / "heap").read_bytes())
    assert values['pyroscope_segment_writer_segment_ingest_bytes_sum{shard="3",tenant="anonymous"}'] == len(heap)
    created = values['pyroscope_segment_writer_head_profiles_created_total{profile_name="process_cpu"}']
    assert 1 <= created <= 4, created  # one row per sample type with a non-zero value
    assert values['pyroscope_segment_writer_tsdb_head_series_created_total{profile_name="process_cpu"}'] == created
    ingested = values['pyroscope_segment_writer_head_ingested_sample_values_total{profile_name="process_cpu"}']
    assert 0 < ingested <= values['pyroscope_segment_writer_head_received_sample_values_total{profile_name="process_cpu"}']
    assert values['pyroscope_segment_writer_head_flushed_blocks_total{status="success"}'] >= 1
    assert values['pyroscope_segment_writer_rows_written{type="profiles"}'] == created
    # Ours: the loop's time per Push and per segment object.
    assert values['pyroscope_segment_writer_push_ingest_duration_seconds_count{shard="3"}'] == 1
    assert 0 < values['pyroscope_segment_writer_push_ingest_duration_seconds_sum{shard="3"}'] < 5
    assert values['pyroscope_segment_writer_segment_encode_duration_seconds_count{shard="3"}'] == 1
    # Upstream's flush timings: the segment's heads, each (tenant, service) head, the head block.
    assert values['pyroscope_segment_flush_heads_duration_seconds_count{shard="3"}'] == 1
    head_seconds = values['pyroscope_segment_flush_service_head_duration_seconds_sum{shard="3",tenant="anonymous"}']
    assert values['pyroscope_segment_flush_service_head_duration_seconds_count{shard="3",tenant="anonymous"}'] == 1
    assert 0 < head_seconds <= values['pyroscope_segment_flush_heads_duration_seconds_sum{shard="3"}']
    assert values['pyroscope_segment_writer_head_flushed_block_duration_seconds_sum'] >= head_seconds
    assert values['pyroscope_segment_head_size_bytes_count{shard="3",tenant="anonymous"}'] == 1
    assert values['pyroscope_segment_tenant_index_bytes_count{shard="3",tenant="anonymous"}'] == 1
    for table in ("tsdb", "profiles.parquet", "symbols.symdb"):
        assert values[f'pyroscope_segment_writer_head_flushed_table_size_bytes_count{{name="{table}"}}'] >= 1
    for name in ("pyroscope_segment_writer_segment_ingest_bytes", "pyroscope_segment_writer_segment_size_bytes",
                 "pyroscope_segment_ingester_wait_duration_seconds", "pyroscope_segment_flush_segment_duration_seconds",
                 'pyroscope_request_duration_seconds_bucket{method="gRPC",route="/segmentwriter.v1.SegmentWriterService/Push",status_code="success"'):
        assert name in text, name


def test_sigterm_answers_parked_pushes_then_exits_zero(protos, tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=30s")
    try:
        profile = (TESTDATA / "pprof" / "profile_python").read_bytes()
        with grpc.insecure_channel(proc.grpc_target) as channel:
            s = stub(protos, channel)
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                futures = [pool.submit(call_status, lambda k=k: s.Push(make_request(protos, profile, shard=1 + k % 4), timeout=20))
                           for k in range(8)]
                time.sleep(0.5)
                assert not any(f.done() for f in futures), "Pushes must wait for the flush"
                proc.proc.send_signal(15)
                results = [f.result(timeout=20) for f in futures]
        assert all(code == grpc.StatusCode.OK for code, _ in results), results
        assert proc.proc.wait(20) == 0, "".join(proc.lines)
        check_objects(protos, proc.data_dir, {1, 2, 3, 4})
    finally:
        proc.kill()


def test_size_bound_flushes_before_the_ticker(protos, tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=30s",
                                "-segment-writer.segment-max-bytes=1")
    try:
        with grpc.insecure_channel(proc.grpc_target) as channel:
            start = time.monotonic()
            req = make_request(protos, (TESTDATA / "pprof" / "heap").read_bytes(), shard=5)
            assert call_status(lambda: stub(protos, channel).Push(req, timeout=10))[0] == grpc.StatusCode.OK
            assert time.monotonic() - start < 5
        assert len(blocks(proc.data_dir)) == 1
    finally:
        proc.kill()


def ulid_ms(ulid):
    """The 48-bit millisecond time of a ULID (its first 10 Crockford base-32 characters)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = 0
    for c in ulid[:10]:
        value = value * 32 + alphabet.index(c)
    return value


def test_shards_of_one_loop_flush_at_spread_phases(protos, tmp_path):
    """Shards created together get tickers offset within the period (one loop would otherwise
    encode all their segments back to back while the first one's acknowledgements wait); each
    shard still writes one object per period at most. A segment's ULID time is when it opened:
    the previous flush of its shard, after that flush's encoding, so single times jitter by the
    encoding and the loop's other work (tens of ms in a debug build, more on a loaded host)."""
    period = 800
    proc = SegmentWriterProcess(tmp_path / "data", f"-segment-writer.segment-duration={period}ms",
                                "-segment-writer.event-loops=1")
    shards = [1, 2, 3, 4]
    try:
        profile = (TESTDATA / "pprof" / "profile_python").read_bytes()
        with grpc.insecure_channel(proc.grpc_target) as channel:
            push = stub(protos, channel).Push
            calls = []
            end = time.monotonic() + 5 * period / 1000
            while time.monotonic() < end:
                calls += [push.future(make_request(protos, profile, shard=s), timeout=10) for s in shards]
                time.sleep(0.2)
            for call in calls:
                call.result()
    finally:
        proc.kill()

    def circular(a, b):
        return min(abs(a - b), period - abs(a - b))

    phases = {}
    for s in shards:
        times = sorted(ulid_ms(b.parts[-2]) for b in blocks(proc.data_dir) if int(b.parts[-4]) == s)
        later = times[1:]  # the first segment opened at the shard's first Push
        assert len(later) >= 3, f"shard {s}: {len(times)} objects"
        # One object per period at most (a segment without Pushes writes none).
        assert len(later) <= (later[-1] - later[0]) / period + 1.5, f"shard {s}: segments opened at {later}"
        # The shard's phase: the open time (within the period) closest to all the others, so a
        # flush the loaded loop ran late does not move it.
        within = [t % period for t in later]
        phases[s] = min(within, key=lambda p: sum(circular(p, q) for q in within))
    distances = [circular(phases[a], phases[b]) for a in shards for b in shards if a < b]
    # The golden-ratio offsets of four shards are at least 0.146 periods (117 ms) apart; tickers
    # created together (before) were within 4 ms of each other. The margin is for a host so
    # loaded that late flushes run back to back and their open times bunch up.
    assert min(distances) >= period / 32, f"flush phases {phases}"


def test_client_cancel_while_parked_is_forgotten(protos, tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=1s")
    try:
        with grpc.insecure_channel(proc.grpc_target) as channel:
            req = make_request(protos, (TESTDATA / "pprof" / "heap").read_bytes())
            future = stub(protos, channel).Push.future(req, timeout=10)
            time.sleep(0.3)
            assert future.cancel()
            for _ in range(50):
                if 'status_code="cancel"' in metrics_text(proc):
                    break
                time.sleep(0.1)
            assert 'route="/segmentwriter.v1.SegmentWriterService/Push",status_code="cancel"' in metrics_text(proc)
            # The segment still flushes (the profile was accepted) and a later Push works.
            assert call_status(lambda: stub(protos, channel).Push(make_request(protos, req.profile), timeout=10))[0] \
                == grpc.StatusCode.OK
        assert proc.terminate() == 0
    finally:
        proc.kill()


def test_gzip_profiles_and_gzip_grpc_encoding_are_accepted(protos, server):
    """§7 checks 3 and 6: a gzip profile, two concatenated gzip members, grpc-encoding gzip."""
    import gzip
    raw = (TESTDATA / "pprof" / "profile_uncompressed").read_bytes()
    half = len(raw) // 2
    variants = [gzip.compress(raw), gzip.compress(raw[:half]) + gzip.compress(raw[half:])]
    with grpc.insecure_channel(server.grpc_target) as channel:
        for profile in variants:
            assert call_status(lambda: stub(protos, channel).Push(make_request(protos, profile), timeout=10))[0] == grpc.StatusCode.OK
    with grpc.insecure_channel(server.grpc_target, compression=grpc.Compression.Gzip) as channel:
        assert call_status(lambda: stub(protos, channel).Push(make_request(protos, raw), timeout=10))[0] == grpc.StatusCode.OK


def test_upload_failure_answers_unknown(protos, tmp_path):
    """§7 check 5: the bucket cannot be written (its directory sits under a regular file)."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    proc = SegmentWriterProcess(blocker / "data", "-segment-writer.segment-duration=100ms",
                                "-segment-writer.upload-timeout=300ms")
    try:
        with grpc.insecure_channel(proc.grpc_target) as channel:
            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                futures = [pool.submit(call_status, lambda: stub(protos, channel).Push(
                    make_request(protos, (TESTDATA / "pprof" / "heap").read_bytes()), timeout=10)) for _ in range(3)]
                results = [f.result() for f in futures]
        for code, details in results:
            assert code == grpc.StatusCode.UNKNOWN, (code, details)
            assert details.startswith("failed to upload block "), details
    finally:
        proc.kill()


def test_health_watch_reports_not_serving_when_draining(protos, tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data")
    try:
        with grpc.insecure_channel(proc.grpc_target) as channel:
            watch = channel.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=lambda b: b,
                                         response_deserializer=lambda b: b)
            name = b"pyroscope.segment-writer"
            stream = watch(b"\x0a" + bytes([len(name)]) + name, timeout=10)
            assert next(stream) == b"\x08\x01"
            unknown = watch(b"\x0a\x03abc", timeout=10)
            assert next(unknown) == b"\x08\x03"
            proc.proc.send_signal(15)
            assert next(stream) == b"\x08\x02"
        assert proc.proc.wait(20) == 0
    finally:
        proc.kill()


def test_memory_budget_refuses_forwarded_pushes(protos, tmp_path):
    """A 1-byte budget: a Push for the receiving loop's own shard is ingested (and flushed at
    once, segment-max-bytes 1); one that must be copied to the other loop is refused. The
    profile is small enough for one DATA frame, so nothing is charged while it arrives."""
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-max-bytes=1",
                                "-segment-writer.memory-budget-bytes=1")
    try:
        profile = (TESTDATA / "pprof" / "profile_nodejs").read_bytes()
        with grpc.insecure_channel(proc.grpc_target) as channel:
            results = [call_status(lambda: stub(protos, channel).Push(make_request(protos, profile, shard=shard), timeout=10))
                       for shard in (1, 2)]
        assert sorted(code.value[0] for code, _ in results) == [0, 8], results
        assert (grpc.StatusCode.RESOURCE_EXHAUSTED, "segment-writer: memory budget exceeded") in results
    finally:
        proc.kill()


def test_help_and_bad_flags(tmp_path):
    binary = str(bin_dir() / "segment-writer")
    out = subprocess.run([binary, "-help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "-segment-writer.segment-duration" in out.stdout
    out = subprocess.run([binary, "-server.grpc-listen-port=70000"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1 and "is not a port" in out.stderr
    out = subprocess.run([binary, "-segment-writer.segment-duration=soon"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1 and "segment-duration" in out.stderr


def test_message_above_the_receive_limit_is_resource_exhausted(protos, tmp_path):
    """§7 check 6 with a 1 MB limit (`-server.grpc-max-recv-msg-size-bytes`)."""
    proc = SegmentWriterProcess(tmp_path / "data", "-server.grpc-max-recv-msg-size-bytes=1000000")
    try:
        with grpc.insecure_channel(proc.grpc_target) as channel:
            big = make_request(protos, b"\x00" * 1_100_000)
            code, details = call_status(lambda: stub(protos, channel).Push(big, timeout=10))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED, details
            ok = make_request(protos, (TESTDATA / "pprof" / "heap").read_bytes())
            assert call_status(lambda: stub(protos, channel).Push(ok, timeout=10))[0] == grpc.StatusCode.OK
    finally:
        proc.kill()


def test_dskit_server_metrics(protos, server):
    """dskit's connection, in-flight and message-size metrics, under upstream's names."""
    route = 'method="gRPC",route="/segmentwriter.v1.SegmentWriterService/Push"'
    request = make_request(protos, (TESTDATA / "pprof" / "profile_java").read_bytes(), shard=2)
    with grpc.insecure_channel(server.grpc_target) as channel:
        assert call_status(lambda: stub(protos, channel).Push(request, timeout=10))[0] == grpc.StatusCode.OK
        values = metric_values(server)
        assert values['pyroscope_tcp_connections{protocol="grpc"}'] == 1
        assert values['pyroscope_tcp_connections{protocol="http"}'] >= 1  # this scrape's own
        assert values[f'pyroscope_inflight_requests{{{route}}}'] == 0
        assert values[f'pyroscope_request_message_bytes_count{{{route}}}'] == 1
        assert values[f'pyroscope_request_message_bytes_sum{{{route}}}'] == len(request.SerializeToString())
    # The channel is gone: its connection closes.
    deadline = time.monotonic() + 5
    while metric_values(server)['pyroscope_tcp_connections{protocol="grpc"}'] != 0:
        assert time.monotonic() < deadline, "gRPC connection still counted after the channel closed"
        time.sleep(0.05)


def open_files_limits(pid):
    with open(f"/proc/{pid}/limits") as limits:
        line = next(l for l in limits if l.startswith("Max open files"))
    return tuple(int(v) for v in line.split()[3:5])


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_the_soft_open_files_limit_is_raised_to_the_hard_one(tmp_path):
    """As a Go server does at start: a soft limit of 256 under a hard one of 2048 becomes 2048."""
    proc = SegmentWriterProcess(tmp_path / "data", open_files=(256, 2048))
    try:
        assert open_files_limits(proc.proc.pid) == (2048, 2048)
        assert any('msg="open-files limit raised to the hard limit" from=256 to=2048' in l for l in proc.lines), proc.lines
    finally:
        proc.kill()


def test_out_of_descriptors_the_writer_waits_instead_of_spinning(protos, tmp_path):
    """96 descriptors in all and 150 clients connected: the connections it cannot accept wait in
    the backlog while the loops idle (no accept retried in a busy loop), and once clients leave
    a Push on a new connection is served."""
    proc = SegmentWriterProcess(tmp_path / "data", open_files=(96, 96))
    clients = []
    try:
        clients = [socket.create_connection(("127.0.0.1", proc.grpc_port), timeout=5) for _ in range(150)]
        time.sleep(1)
        before = cpu_seconds(proc.proc.pid)
        time.sleep(2)
        assert cpu_seconds(proc.proc.pid) - before < 0.3
        assert any('msg="accept failed, retrying" err="Too many open files (errno 24)"' in l for l in proc.lines), proc.lines[-5:]
        for c in clients:
            c.close()
        clients = []
        request = make_request(protos, (TESTDATA / "pprof" / "profile_nodejs").read_bytes())
        with grpc.insecure_channel(proc.grpc_target) as channel:
            assert call_status(lambda: stub(protos, channel).Push(request, timeout=10))[0] == grpc.StatusCode.OK
    finally:
        for c in clients:
            c.close()
        proc.kill()
