"""Ring registration against a real memberlist peer (Tests/Peers/memberlist-peer: hashicorp/memberlist
with dskit's TCP transport and ring KV): the server publishes its InstanceDesc under
collectors/segment-writer-ring, heartbeats it, marks it LEAVING (or LEFT) on shutdown, keeps trying
an absent join address, and its entry spreads by gossip (ingest-and-ops.md §3.7, §5.5)."""
import signal
import time
import urllib.error
import urllib.request

import grpc
import pytest

from conftest import TESTDATA
from memberlist_peer import ACTIVE, LEAVING, LEFT, PeerProcess, wait_for
from server_process import SegmentWriterProcess, free_port
from test_segment_writer_server import call_status, health_check, make_request, stub

PROFILE = (TESTDATA / "pprof" / "heap").read_bytes()


@pytest.fixture
def processes():
    """Starts peers and servers; kills whatever is left at the end."""
    started = []

    class Start:
        @staticmethod
        def peer(**kwargs):
            p = PeerProcess(**kwargs)
            started.append(p)
            return p

        @staticmethod
        def server(tmp_path, instance_id, join, *flags):
            s = SegmentWriterProcess(
                tmp_path / f"data-{instance_id}",
                *(f"-memberlist.join={j}" for j in join),
                "-memberlist.bind-addr=127.0.0.1", f"-memberlist.bind-port={free_port()}",
                f"-segment-writer.lifecycler.ID={instance_id}", "-segment-writer.lifecycler.addr=127.0.0.1",
                "-segment-writer.heartbeat-period=1s", "-segment-writer.min-ready-duration=0s", *flags)
            started.append(s)
            return s

    yield Start
    for p in started:
        p.kill()


def logs(server, *peers):
    return "server:\n" + "".join(server.lines) + "".join(f"\n{p.name}:\n" + p.log() for p in peers)


def registered(peer, server, instance_id, timeout=5):
    """The instance once the peer has it (fails with both logs otherwise)."""
    inst = wait_for(lambda: peer.instance(instance_id), timeout)
    assert inst, f"{instance_id} not in {peer.name}'s ring after {timeout}s\n" + logs(server, peer)
    return inst


def check_active_entry(inst, instance_id, server):
    assert inst["id"] == instance_id
    assert inst["addr"] == f"127.0.0.1:{server.grpc_port}"
    assert inst["state"] == ACTIVE
    assert len(inst["tokens"]) == 4, inst
    assert inst["tokens"] == sorted(set(inst["tokens"])), f"tokens not unique and sorted: {inst['tokens']}"
    assert 0 < inst["registered_timestamp"] <= inst["timestamp"], inst
    assert abs(inst["timestamp"] - time.time()) <= 5, f"timestamp is not unix seconds of now: {inst}"


def ready(server):
    """(status, body) of GET /ready."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/ready", timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def ready_status(server):
    return ready(server)[0]


def metric(server, line_prefix):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/metrics", timeout=2) as r:
        text = r.read().decode()
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(line_prefix)]
    assert values, f"{line_prefix} not exposed"
    return values[0]


def test_registers_active_instance(processes, tmp_path):
    peer = processes.peer(name="peer-a")
    server = processes.server(tmp_path, "sw-ring-1", [peer.address])
    inst = registered(peer, server, "sw-ring-1")
    check_active_entry(inst, "sw-ring-1", server)
    assert peer.stats()["digest_mismatches"] == peer.stats()["bad_frames"] == 0, peer.stats()
    # dskit's lifecycler metrics, as upstream's segment-writer exposes them.
    assert metric(server, 'pyroscope_segment_writer_member_consul_heartbeats_total{name="segment-writer"}') >= 1
    assert metric(server, 'pyroscope_segment_writer_member_ring_tokens_owned{name="segment-writer"}') == 4
    assert metric(server, 'pyroscope_segment_writer_member_ring_tokens_to_own{name="segment-writer"}') == 4


def test_heartbeats_advance_the_timestamp_only(processes, tmp_path):
    peer = processes.peer(name="peer-a")
    server = processes.server(tmp_path, "sw-ring-2", [peer.address])
    first = registered(peer, server, "sw-ring-2")
    seen = first
    for _ in range(2):
        newer = wait_for(lambda: (i := peer.instance("sw-ring-2"))["timestamp"] > seen["timestamp"] and i, 3.5)
        assert newer, f"no heartbeat after {seen['timestamp']} within 3.5 s\n" + logs(server, peer)
        check_active_entry(newer, "sw-ring-2", server)
        assert newer["tokens"] == first["tokens"]
        assert newer["registered_timestamp"] == first["registered_timestamp"]
        seen = newer


@pytest.mark.parametrize("unregister,final_state", [(False, LEAVING), (True, LEFT)])
def test_shutdown_marks_the_entry(processes, tmp_path, unregister, final_state):
    peer = processes.peer(name="peer-a")
    flags = ["-segment-writer.unregister-on-shutdown=true"] if unregister else []
    server = processes.server(tmp_path, "sw-ring-3", [peer.address], *flags)
    active = registered(peer, server, "sw-ring-3")
    check_active_entry(active, "sw-ring-3", server)
    active = peer.instance("sw-ring-3")  # the latest ACTIVE heartbeat before the signal

    server.proc.send_signal(signal.SIGTERM)
    final = wait_for(lambda: (i := peer.instance("sw-ring-3"))["state"] == final_state and i, 10)
    # The ring's merge ignores a LEAVING entry whose timestamp is not newer than the last heartbeat
    # (dskit's lifecycler retries its CAS a second later); LEFT also wins on an equal timestamp.
    assert final, f"not {final_state} after SIGTERM: {peer.instance('sw-ring-3')}\n" + logs(server, peer)
    assert final["timestamp"] >= active["timestamp"]
    assert final["registered_timestamp"] == active["registered_timestamp"]
    assert final["addr"] == active["addr"]
    if final_state == LEAVING:
        assert final["tokens"] == active["tokens"], "a LEAVING instance keeps its tokens"
    assert server.proc.wait(30) == 0, logs(server, peer)

    # Heartbeats have stopped: the entry stays, in its final state.
    time.sleep(1.5)
    after = peer.instance("sw-ring-3")
    assert after and after["state"] == final_state and after["timestamp"] == final["timestamp"], after


def test_join_address_down_at_start_then_up(protos, processes, tmp_path):
    port = free_port()  # nothing listens here yet
    server = processes.server(tmp_path, "sw-ring-4", [f"127.0.0.1:{port}"])
    # Not in the ring yet: not ready (upstream's lifecycler owns no tokens), but Pushes are served.
    status, body = ready(server)
    assert status == 503 and "owns no tokens" in body, (status, body)
    with grpc.insecure_channel(server.grpc_target) as channel:
        code, details = call_status(lambda: stub(protos, channel).Push(make_request(protos, PROFILE, shard=1), timeout=10))
    assert code == grpc.StatusCode.OK, details
    time.sleep(1.5)  # a failed join attempt or two
    assert server.proc.poll() is None, "server exited:\n" + "".join(server.lines)

    # Failing heartbeats are logged when they start, not once per heartbeat (1 s here).
    warnings = [l for l in server.lines if "ring entry not published" in l]
    assert len(warnings) == 1, "".join(server.lines)
    assert metric(server, 'pyroscope_segment_writer_member_ring_tokens_owned{name="segment-writer"}') == 0

    peer = processes.peer(name="peer-late", port=port)
    inst = registered(peer, server, "sw-ring-4", timeout=10)
    check_active_entry(inst, "sw-ring-4", server)
    assert server.proc.poll() is None
    assert wait_for(lambda: ready_status(server) == 200, 2), ready(server)
    recovered = wait_for(lambda: any("ring entry published" in l and "failed_heartbeats_before=0" not in l
                                     for l in server.lines), 5)
    assert recovered, "".join(server.lines)


def test_entry_reaches_a_peer_it_did_not_join(processes, tmp_path):
    first = processes.peer(name="peer-a")
    second = processes.peer(name="peer-b", join=[first.address])
    both = wait_for(lambda: len(first.members()) == len(second.members()) == 2, 5)
    assert both, first.log() + second.log()

    server = processes.server(tmp_path, "sw-ring-5", [first.address])
    registered(first, server, "sw-ring-5")
    inst = registered(second, server, "sw-ring-5", timeout=10)
    check_active_entry(inst, "sw-ring-5", server)


def test_ring_grace_takes_pushes_while_leaving_then_drains(protos, processes, tmp_path):
    """§5.5 steps 2–5: after SIGTERM the entry is LEAVING and gRPC health NOT_SERVING, yet Pushes
    from distributors with an older ring view are still acknowledged for
    -segment-writer.min-ready-duration; then the drain refuses them and the process exits 0."""
    peer = processes.peer(name="peer-a")
    server = processes.server(tmp_path, "sw-ring-6", [peer.address], "-segment-writer.min-ready-duration=5s",
                              "-segment-writer.segment-duration=100ms")
    registered(peer, server, "sw-ring-6")
    with grpc.insecure_channel(server.grpc_target) as channel:
        push = stub(protos, channel).Push
        assert health_check(channel, "pyroscope.segment-writer") == b"\x08\x01"
        signalled = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        leaving = wait_for(lambda: (i := peer.instance("sw-ring-6"))["state"] == LEAVING and i, 3)
        assert leaving, "not LEAVING after SIGTERM\n" + logs(server, peer)
        assert wait_for(lambda: health_check(channel, "pyroscope.segment-writer") == b"\x08\x02", 1), \
            "gRPC health still SERVING during the ring grace\n" + logs(server, peer)
        assert ready_status(server) == 503
        code, details = call_status(lambda: push(make_request(protos, PROFILE, shard=2), timeout=5))
        assert code == grpc.StatusCode.OK, details
        assert time.monotonic() - signalled < 4.5, "the Push was not answered within the grace"
        assert server.proc.poll() is None, "exited before the grace ended\n" + logs(server, peer)
        assert server.proc.wait(15) == 0, logs(server, peer)
    assert time.monotonic() - signalled >= 5.0, "drained before -segment-writer.min-ready-duration"
    log = "".join(server.lines)
    assert log.index("ring entry leaving") < log.index("draining"), log


def test_second_signal_ends_the_ring_grace(processes, tmp_path):
    peer = processes.peer(name="peer-a")
    server = processes.server(tmp_path, "sw-ring-7", [peer.address], "-segment-writer.min-ready-duration=60s")
    registered(peer, server, "sw-ring-7")
    server.proc.send_signal(signal.SIGTERM)
    assert wait_for(lambda: "ring entry leaving" in "".join(server.lines), 3), logs(server, peer)
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(10) == 0, logs(server, peer)
    assert time.monotonic() - signalled < 3.0
    assert "the rest of the ring grace is skipped" in "".join(server.lines)
