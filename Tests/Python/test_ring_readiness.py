"""Readiness in a ring as upstream's lifecycler has it (dskit CheckReady, ingest-and-ops.md §5.4):
/ready answers 200 only once every instance of the segment-writer ring is ACTIVE with a heartbeat
within -segment-writer.ring.heartbeat-timeout (only this writer's own entry with
-segment-writer.readiness-check-ring-health=false), then -segment-writer.min-ready-duration. The
writer reads the ring from the reply of the real memberlist peer it heartbeats to (compressed
with Go's LZW, the ring value snappy-encoded)."""
import random
import time

from memberlist_peer import ACTIVE, LEAVING, publish_instances, wait_for
from test_ring_membership import logs, processes, ready, ready_status  # noqa: F401 (fixture)


def test_a_stale_instance_in_a_large_ring_holds_readiness_until_it_heartbeats(processes, tmp_path):
    peer = processes.peer(name="peer-a")
    rng = random.Random(7)
    now = int(time.time())
    # 300 instances of 128 tokens: a reply of about 200 KB, far past the 4096 codes of one LZW table.
    ring = {f"big-{i}": (f"10.1.{i // 250}.{i % 250}:9095", now, ACTIVE, [rng.randrange(1 << 32) for _ in range(128)])
            for i in range(300)}
    ring["stale-1"] = ("10.9.9.9:9095", now - 120, ACTIVE, [1, 2, 3])
    assert publish_instances(peer.address, ring) > 0
    server = processes.server(tmp_path, "sw-ready-1", [peer.address])
    body = wait_for(lambda: (r := ready(server))[0] == 503 and "past heartbeat timeout" in r[1] and r[1], 8)
    assert body and "instance 10.9.9.9:9095 past heartbeat timeout" in body, f"{ready(server)}\n" + logs(server, peer)
    assert "cannot become ready until a problem in the ring is resolved" in "".join(server.lines)
    time.sleep(2)
    assert ready_status(server) == 503, "ready with a stale instance in the ring"
    # The stale instance heartbeats again: the next reply shows it fresh, and the writer is ready.
    publish_instances(peer.address, {"stale-1": ("10.9.9.9:9095", int(time.time()), ACTIVE, [1, 2, 3])})
    assert wait_for(lambda: ready_status(server) == 200, 5), f"{ready(server)}\n" + logs(server, peer)


def test_a_leaving_instance_holds_readiness_unless_the_ring_check_is_off(processes, tmp_path):
    peer = processes.peer(name="peer-a")
    publish_instances(peer.address, {"old-1": ("10.9.9.8:9095", int(time.time()) + 3600, LEAVING, [5, 6])})
    checked = processes.server(tmp_path, "sw-ready-2", [peer.address])
    unchecked = processes.server(tmp_path, "sw-ready-3", [peer.address], "-segment-writer.readiness-check-ring-health=false")
    assert wait_for(lambda: ready_status(unchecked) == 200, 6), f"{ready(unchecked)}\n" + logs(unchecked, peer)
    status, body = ready(checked)
    assert status == 503 and "instance 10.9.9.8:9095 in state LEAVING" in body, (status, body)


def test_the_first_heartbeat_can_make_it_ready(processes, tmp_path):
    """The member replies with the ring it held before merging the heartbeat; merged in (as the
    lifecycler's own KV holds it), the first heartbeat already passes: ready long before a second
    heartbeat, which a 30 s period puts far off."""
    peer = processes.peer(name="peer-a")
    started = time.monotonic()
    server = processes.server(tmp_path, "sw-ready-5", [peer.address], "-segment-writer.heartbeat-period=30s")
    assert wait_for(lambda: ready_status(server) == 200, 10), f"{ready(server)}\n" + logs(server, peer)
    assert time.monotonic() - started < 15, "ready only after a second heartbeat"
    assert peer.instance("sw-ready-5") is not None, "the member holds the entry"


def test_ready_waits_for_its_own_entry_then_the_min_ready_duration(processes, tmp_path):
    """Once the ring check passes (from the first heartbeat on), the min-ready-duration runs
    (and restarts whenever the check fails)."""
    peer = processes.peer(name="peer-a")
    server = processes.server(tmp_path, "sw-ready-4", [peer.address], "-segment-writer.min-ready-duration=3s")
    body = wait_for(lambda: (r := ready(server))[0] == 503 and "after being ready" in r[1] and r[1], 6)
    assert body and "waiting for 3s after being ready" in body, f"{ready(server)}\n" + logs(server, peer)
    waiting = time.monotonic()
    assert wait_for(lambda: ready_status(server) == 200, 6), ready(server)
    assert time.monotonic() - waiting >= 2.0, "ready well before -segment-writer.min-ready-duration"
