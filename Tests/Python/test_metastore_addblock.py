"""AddBlock against metastore doubles served by grpcio and by grpc-go (segment-object.md §10.4–§10.5, §11;
§15 checks 15–16)."""
import concurrent.futures
import json
import pathlib
import socket
import subprocess
import tempfile
import threading
import time

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from conftest import PROTOS, TESTDATA
from go_peers import go_peer
from protowire import bytes_field, read_uvarint, varint_field
from server_process import SegmentWriterProcess, bin_dir, free_port, metrics_text
from test_segment_writer_server import blocks, call_status, make_request, stub

PROFILE = (TESTDATA / "pprof" / "heap").read_bytes()


def block_bytes(request):
    """The raw BlockMeta (field 1) of an AddBlockRequest, exactly as the writer encoded it."""
    assert request[0] == 0x0A, request[:4]
    n, i = read_uvarint(request, 1)
    assert i + n == len(request)
    return request[i:]


class MetastoreDouble:
    """metastore.v1.IndexService/AddBlock on loopback, recording the raw block of every call.

    behaviour: "ok"; "follower" (UNAVAILABLE with a raft_node.RaftNode leader hint);
    "unknown"; "invalid" (INVALID_ARGUMENT); "slow" (answers OK after `delay` seconds).
    """

    def __init__(self, protos, behaviour="ok", leader=None, delay=0.0, credentials=None):
        """`credentials`: grpc.ssl_server_credentials to serve over TLS (else h2c)."""
        self.protos, self.behaviour, self.leader, self.delay = protos, behaviour, leader, delay
        self.calls = []
        self.remaining = []  # seconds left on each call's grpc-timeout
        self.lock = threading.Lock()
        self.server = grpc.server(concurrent.futures.ThreadPoolExecutor(8))
        handler = grpc.unary_unary_rpc_method_handler(self._add_block)  # raw bytes in and out
        self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
            "metastore.v1.IndexService", {"AddBlock": handler})])
        self.port = (self.server.add_secure_port("127.0.0.1:0", credentials) if credentials
                     else self.server.add_insecure_port("127.0.0.1:0"))
        self.server.start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def blocks(self):
        meta_pb = self.protos.pyroscope_api__metastore__v1__types_pb2
        with self.lock:
            return [(raw, meta_pb.BlockMeta.FromString(raw)) for raw in self.calls]

    def _add_block(self, request, context):
        with self.lock:
            self.calls.append(block_bytes(request))
            self.remaining.append(context.time_remaining())
        if self.behaviour == "follower":
            raft = self.protos.pyroscope_api__raft_node__raft_node_pb2
            detail = any_pb2.Any()
            detail.Pack(raft.RaftNode(id=self.leader[0], address=self.leader[1]))
            context.abort_with_status(rpc_status.to_status(status_pb2.Status(
                code=code_pb2.UNAVAILABLE, message="node is not the leader", details=[detail])))
        if self.behaviour == "unknown":
            context.abort(grpc.StatusCode.UNKNOWN, "raft apply timeout")
        if self.behaviour == "invalid":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid block id")
        if self.behaviour == "slow":
            end = time.monotonic() + self.delay
            while time.monotonic() < end and context.is_active():
                time.sleep(0.01)
        return b""

    def stop(self):
        self.server.stop(0)


_descriptors = []


def metastore_descriptors():
    """The metastore protos as a FileDescriptorSet (compiled once), for the grpc-go double."""
    if not _descriptors:
        from grpc_tools import protoc
        out = pathlib.Path(tempfile.mkdtemp()) / "metastore.pb"
        include = pathlib.Path(protoc.__file__).parent / "_proto"
        assert protoc.main(["protoc", f"-I{PROTOS}", f"-I{include}", f"--descriptor_set_out={out}", "--include_imports",
                            "pyroscope_api/metastore/v1/index.proto"]) == 0
        _descriptors.append(out)
    return _descriptors[0]


class GoMetastoreDouble(MetastoreDouble):
    """The same double served by grpc-go, the real metastore's gRPC server
    (Tests/Peers/grpc-go-metastore): its HTTP/2 and status-details encoding, not grpcio's, and
    each request unmarshalled by the Go protobuf runtime first, as the metastore's codec does."""

    def __init__(self, protos, behaviour="ok", leader=None, delay=0.0, port=0, flags=()):
        self.protos = protos
        self.calls, self.remaining = [], []
        self.connections = 0
        self.lock = threading.Lock()
        args = [str(go_peer("grpc-go-metastore", "metastore", "GRPC_GO_METASTORE")), f"-behaviour={behaviour}",
                f"-delay={delay}s", f"-descriptors={metastore_descriptors()}", f"-listen=127.0.0.1:{port}", *flags]
        if leader:
            args += [f"-leader-id={leader[0]}", f"-leader-address={leader[1]}"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.port = int(json.loads(self.proc.stdout.readline())["address"].rsplit(":", 1)[1])
        self.reader = threading.Thread(target=self._read_calls, daemon=True)
        self.reader.start()

    def _read_calls(self):
        for line in self.proc.stdout:
            event = json.loads(line)
            with self.lock:
                if "connection" in event:
                    self.connections += 1
                    continue
                self.calls.append(bytes.fromhex(event["block"]))
                self.remaining.append(event["timeout_ms"] / 1000 if event["timeout_ms"] >= 0 else None)

    def terminate(self):
        """SIGTERM: grpc-go's GracefulStop, as a metastore node shutting down for a rollout."""
        self.proc.terminate()
        assert self.proc.wait(10) == 0
        self.reader.join(5)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(params=[MetastoreDouble, GoMetastoreDouble], ids=["grpcio", "grpc-go"])
def doubles(protos, request):
    started = []

    def make(*args, **kwargs):
        d = request.param(protos, *args, **kwargs)
        started.append(d)
        return d

    yield make
    for d in started:
        d.stop()


@pytest.fixture
def writer(tmp_path):
    started = []

    def make(*flags, data="data"):
        """A writer with `flags`; one test's writers share `data` unless given another directory name."""
        p = SegmentWriterProcess(tmp_path / data, "-segment-writer.segment-duration=200ms", *flags)
        started.append(p)
        return p

    yield make
    for p in started:
        p.kill()


def push_all(protos, proc, shards):
    with grpc.insecure_channel(proc.grpc_target) as channel:
        with concurrent.futures.ThreadPoolExecutor(len(shards)) as pool:
            return list(pool.map(lambda s: call_status(lambda: stub(protos, channel).Push(
                make_request(protos, PROFILE, service=f"svc-{s}", shard=s), timeout=20)), shards))


def dlq_objects(data_dir):
    return sorted(pathlib.Path(data_dir).glob("dlq/*/anonymous/*/meta.pb"))


def trailer(block):
    """The object's own BlockMeta protobuf (§3: … | meta N bytes | be32 N | be32 CRC)."""
    data = block.read_bytes()
    n = int.from_bytes(data[-8:-4], "big")
    return data[len(data) - 8 - n:len(data) - 8]


def test_every_segment_registered_once_with_trailer_plus_size(protos, doubles, writer):
    meta_pb = protos.pyroscope_api__metastore__v1__types_pb2
    metastore = doubles("ok")
    proc = writer(f"-metastore.address={metastore.address}")
    results = push_all(protos, proc, [1, 2, 3, 1, 2])
    assert all(code == grpc.StatusCode.OK for code, _ in results), results
    found = blocks(proc.data_dir)
    registered = metastore.blocks()
    assert sorted(m.id for _, m in registered) == sorted(b.parts[-2] for b in found), "each segment exactly once"
    for block in found:
        [(raw, meta)] = [(r, m) for r, m in registered if m.id == block.parts[-2]]
        expected = meta_pb.BlockMeta.FromString(trailer(block))
        assert expected.size == 0
        expected.size = block.stat().st_size
        assert meta == expected
        assert meta.shard == int(block.parts[-4])
    assert not dlq_objects(proc.data_dir)
    assert 'pyroscope_segment_writer_store_metadata_duration_seconds_count{status="success"}' in metrics_text(proc)


def test_follower_hint_redirects_to_the_leader(protos, doubles, writer):
    leader = doubles("ok")
    # As a metastore names its leader: raft server ID and raft address (not the gRPC one).
    follower = doubles("follower", leader=("leader-0:9099", "10.0.0.2:9099"))
    bystander = doubles("unknown")
    # The hint's ID names the leader; the bystander would be next in line.
    proc = writer(f"-metastore.address={follower.address}/follower-0,{bystander.address}/bystander-0,"
                  f"{leader.address}/leader-0")
    results = push_all(protos, proc, [1, 2, 3, 4])
    assert all(code == grpc.StatusCode.OK for code, _ in results), results
    redirected = len(follower.calls)
    assert 1 <= redirected <= len(blocks(proc.data_dir)), "calls that started before a redirect taught the leader"
    # Later segments go straight to the cached leader.
    results = push_all(protos, proc, [1, 2, 3, 4])
    assert all(code == grpc.StatusCode.OK for code, _ in results), results
    assert len(follower.calls) == redirected
    found = blocks(proc.data_dir)
    assert sorted(m.id for _, m in leader.blocks()) == sorted(b.parts[-2] for b in found), "each segment exactly once"
    assert not bystander.calls
    assert not dlq_objects(proc.data_dir)


def test_hint_that_names_no_configured_node_moves_on_to_the_next(protos, doubles, writer):
    # Nodes listed without IDs; the hint's address is a raft port no node serves gRPC on.
    follower = doubles("follower", leader=("127.0.0.1:9099", "127.0.0.1:9099"))
    leader = doubles("ok")
    proc = writer(f"-metastore.address={follower.address},{leader.address},127.0.0.1:{free_port()}")
    results = push_all(protos, proc, [1, 2, 3])
    assert all(code == grpc.StatusCode.OK for code, _ in results), results
    assert sorted(m.id for _, m in leader.blocks()) == sorted(b.parts[-2] for b in blocks(proc.data_dir))
    assert not dlq_objects(proc.data_dir)


def test_slow_metastore_falls_back_to_dlq_byte_equal(protos, doubles, writer):
    metastore = doubles("slow", delay=3.0)
    proc = writer(f"-metastore.address={metastore.address}", "-segment-writer.metadata-update-timeout=300ms")
    start = time.monotonic()
    results = push_all(protos, proc, [5])
    assert results == [(grpc.StatusCode.OK, "")]
    assert time.monotonic() - start < 2.5, "acknowledged after the metadata deadline, not the double's answer"
    [block] = blocks(proc.data_dir)
    [dlq] = dlq_objects(proc.data_dir)
    assert dlq.parts[-2] == block.parts[-2]
    registered = {raw for raw, _ in metastore.blocks()}
    assert registered == {dlq.read_bytes()}, "the DLQ object is the AddBlock encoding (BlockMeta with size)"
    assert all(r is not None and 0 < r <= 0.31 for r in metastore.remaining), metastore.remaining
    meta = protos.pyroscope_api__metastore__v1__types_pb2.BlockMeta.FromString(dlq.read_bytes())
    assert meta.size == block.stat().st_size


def test_zero_metadata_update_timeout_leaves_the_clients_own_deadline(protos, doubles, writer):
    # Upstream's 0 sets no deadline of its own; its metastore client still ends a call after 20 s.
    metastore = doubles("slow", delay=2.5)
    proc = writer(f"-metastore.address={metastore.address}", "-segment-writer.metadata-update-timeout=0")
    assert push_all(protos, proc, [5]) == [(grpc.StatusCode.OK, "")]
    assert [m.id for _, m in metastore.blocks()] == [b.parts[-2] for b in blocks(proc.data_dir)]
    assert not dlq_objects(proc.data_dir)
    assert all(r is not None and 19 < r <= 20 for r in metastore.remaining), metastore.remaining


def test_metastore_down_falls_back_to_dlq(protos, writer):
    proc = writer(f"-metastore.address=127.0.0.1:{free_port()}", "-segment-writer.metadata-update-timeout=300ms")
    assert push_all(protos, proc, [1, 2]) == [(grpc.StatusCode.OK, "")] * 2
    found = blocks(proc.data_dir)
    assert sorted(d.parts[-2] for d in dlq_objects(proc.data_dir)) == sorted(b.parts[-2] for b in found)
    exposed = metrics_text(proc)
    assert 'pyroscope_segment_writer_store_metadata_dlq{status="success"} 2' in exposed
    assert 'pyroscope_segment_writer_store_metadata_duration_seconds_count{status="success"} 2' in exposed


def test_down_node_fails_over_to_the_next(protos, doubles, writer):
    metastore = doubles("ok")
    # The first node refuses connections; the second is named (dns:/// form, resolved at start-up).
    proc = writer(f"-metastore.address=127.0.0.1:{free_port()},dns:///localhost:{metastore.port}")
    assert push_all(protos, proc, [1, 2]) == [(grpc.StatusCode.OK, "")] * 2
    assert sorted(m.id for _, m in metastore.blocks()) == sorted(b.parts[-2] for b in blocks(proc.data_dir))
    assert not dlq_objects(proc.data_dir)


class BlackHoledPort:
    """A loopback port whose SYNs are dropped (as a vanished pod's address often drops them): a
    listener with a backlog of 0 whose one queued connection is never accepted."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.queued = socket.create_connection(("127.0.0.1", self.port))

    def close(self):
        self.queued.close()
        self.listener.close()


@pytest.mark.parametrize("connect_timeout, registered", [(None, True), ("5s", False)])
def test_black_holed_node_is_abandoned_after_the_connect_timeout(protos, doubles, writer, connect_timeout, registered):
    # The first node drops SYNs. With the default 1 s connect timeout AddBlock gives it up within
    # its 2 s deadline and registers the block on the second node; with upstream's 5 s the
    # deadline ends first and the metadata goes to the DLQ.
    hole = BlackHoledPort()
    try:
        metastore = doubles("ok")
        flags = [f"-metastore.address=127.0.0.1:{hole.port},127.0.0.1:{metastore.port}"]
        if connect_timeout:
            flags.append(f"-metastore.grpc-client-config.connect-timeout={connect_timeout}")
        proc = writer(*flags)
        assert push_all(protos, proc, [1]) == [(grpc.StatusCode.OK, "")]
        found = [b.parts[-2] for b in blocks(proc.data_dir)]
        if registered:
            assert [m.id for _, m in metastore.blocks()] == found
            assert not dlq_objects(proc.data_dir)
        else:
            assert not metastore.blocks()
            assert [d.parts[-2] for d in dlq_objects(proc.data_dir)] == found
    finally:
        hole.close()


def test_name_that_does_not_resolve_at_start_up_is_not_fatal(protos, writer):
    # A headless Service has no address until its pods are ready: the writer starts, warns,
    # and AddBlock fails UNAVAILABLE (DLQ fallback) while the name is looked up again.
    proc = writer("-metastore.address=dns:///metastore.invalid:9095", "-segment-writer.metadata-update-timeout=300ms")
    assert any("metastore address does not resolve yet" in line and "metastore.invalid" in line for line in proc.lines)
    assert push_all(protos, proc, [1]) == [(grpc.StatusCode.OK, "")]
    assert [d.parts[-2] for d in dlq_objects(proc.data_dir)] == [b.parts[-2] for b in blocks(proc.data_dir)]


def test_dlq_disabled_and_metastore_down_answers_unknown(protos, writer):
    proc = writer(f"-metastore.address=127.0.0.1:{free_port()}", "-segment-writer.metadata-update-timeout=300ms",
                  "-segment-writer.metadata-dlq-enabled=false")
    results = push_all(protos, proc, [1, 2])
    ids = {b.parts[-2] for b in blocks(proc.data_dir)}
    for code, details in results:
        assert code == grpc.StatusCode.UNKNOWN, (code, details)
        assert details.startswith("failed to store meta ") and details.split()[4].rstrip(":") in ids, details
    assert not dlq_objects(proc.data_dir)


def test_invalid_argument_is_not_retried(protos, doubles, writer):
    metastore = doubles("invalid")
    spare = doubles("ok")
    proc = writer(f"-metastore.address={metastore.address},{spare.address}")
    assert push_all(protos, proc, [1]) == [(grpc.StatusCode.OK, "")]
    [block] = blocks(proc.data_dir)
    assert [m.id for _, m in metastore.blocks()] == [block.parts[-2]], "one call, no retry"
    assert not spare.calls, "not retried on another node either"
    [dlq] = dlq_objects(proc.data_dir)
    assert dlq.parts[-2] == block.parts[-2]


def test_malformed_address_fails_start_up(tmp_path):
    out = subprocess.run([str(bin_dir() / "segment-writer"), "-server.grpc-listen-port=0", "-server.http-listen-port=0",
                          f"-storage.filesystem.dir={tmp_path}", "-metastore.address=metastore-0"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "malformed metastore address" in out.stderr, out.stderr


def with_sample_type_named_by(pprof, string_index):
    """`pprof` (raw) with its sample_type (field 1) replaced by ValueType{type: string_index, unit: 2}."""
    out, i = b"", 0
    while i < len(pprof):
        key, j = read_uvarint(pprof, i)
        if key & 7 == 0:
            _, end = read_uvarint(pprof, j)
        else:
            assert key & 7 == 2, key
            n, k = read_uvarint(pprof, j)
            end = k + n
        if key >> 3 != 1:
            out += pprof[i:end]
        i = end
    return bytes_field(1, varint_field(1, string_index) + varint_field(2, 2)) + out


def test_a_profile_type_that_is_not_utf8_is_refused_and_the_segment_registers(protos, doubles, writer):
    # String 4 of this corpus file is every byte value: as a sample type it would name a profile
    # type in the segment's BlockMeta, which protobuf runtimes then refuse to decode (the
    # metastore's gRPC codec would refuse the AddBlock, for every tenant in the segment).
    import gzip
    raw = gzip.decompress((TESTDATA / "pprof" / "invalid_utf8.pb.gz").read_bytes())
    metastore = doubles("ok")
    proc = writer(f"-metastore.address={metastore.address}")
    with grpc.insecure_channel(proc.grpc_target) as channel:
        code, details = call_status(lambda: stub(protos, channel).Push(
            make_request(protos, with_sample_type_named_by(raw, 4), tenant="tenant-b"), timeout=20))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, details)
        assert details == "pprof: sample_type.type references string 4, which is not valid UTF-8"
        # The same file as it is (the bytes in a function name, which stays raw) is taken.
        for profile, tenant in ((raw, "tenant-b"), (PROFILE, "tenant-a")):
            assert call_status(lambda: stub(protos, channel).Push(
                make_request(protos, profile, tenant=tenant), timeout=20)) == (grpc.StatusCode.OK, "")
    found = blocks(proc.data_dir)
    assert sorted(m.id for _, m in metastore.blocks()) == sorted(b.parts[-2] for b in found)
    assert not dlq_objects(proc.data_dir)


def test_connections_the_metastore_ages_out_lose_no_registration(protos, writer):
    # dskit's -server.grpc.keepalive.max-connection-age on the metastore: grpc-go sends GOAWAY to
    # every connection a second old. Each AddBlock takes 150 ms, so the connection is rarely idle
    # when grpc-go drains it, and a draining grpc-go server drops new streams without a word: the
    # writer must open a new connection for its next calls. No AddBlock may fail into the DLQ,
    # and every segment is registered once.
    metastore = GoMetastoreDouble(protos, behaviour="slow", delay=0.15,
                                  flags=["-max-connection-age=1s", "-max-connection-age-grace=30s"])
    try:
        proc = writer(f"-metastore.address={metastore.address}")
        end = time.monotonic() + 4.5
        while time.monotonic() < end:
            assert push_all(protos, proc, [1, 2]) == [(grpc.StatusCode.OK, "")] * 2
        found = blocks(proc.data_dir)
        assert sorted(m.id for _, m in metastore.blocks()) == sorted(b.parts[-2] for b in found), "each segment once"
        assert not dlq_objects(proc.data_dir)
        assert metastore.connections >= 3, "the connections were aged out"
    finally:
        metastore.stop()


def test_a_metastore_restart_sends_the_gap_to_the_dlq_and_registers_again_after(protos, writer):
    # A metastore node rolled: GracefulStop (GOAWAY, calls under way finish), nothing listening for
    # a while, then a new process on the same address. Segments flushed while it is gone go to the
    # DLQ (where the metastore recovers them); the writer dials the new process for the next ones.
    first = GoMetastoreDouble(protos)
    second = None
    try:
        proc = writer(f"-metastore.address={first.address}", "-segment-writer.metadata-update-timeout=300ms")
        assert push_all(protos, proc, [1, 2]) == [(grpc.StatusCode.OK, "")] * 2
        first.terminate()
        assert push_all(protos, proc, [1, 2]) == [(grpc.StatusCode.OK, "")] * 2
        second = GoMetastoreDouble(protos, port=first.port)
        deadline = time.monotonic() + 10
        while not second.calls:
            assert time.monotonic() < deadline, "the writer never registered with the restarted metastore"
            assert push_all(protos, proc, [1]) == [(grpc.StatusCode.OK, "")]
        found = sorted(b.parts[-2] for b in blocks(proc.data_dir))
        registered = [m.id for _, m in first.blocks() + second.blocks()]
        dead_lettered = [d.parts[-2] for d in dlq_objects(proc.data_dir)]
        assert sorted(registered + dead_lettered) == found, "each segment registered or dead-lettered, once"
        assert len(first.calls) >= 1 and len(dead_lettered) >= 2
    finally:
        first.stop()
        if second:
            second.stop()
