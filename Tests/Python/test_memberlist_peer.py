"""The memberlist peer against itself and against raw bytes: proves the dskit framing works with the
real memberlist library in both directions, and pins down what a hand-written client must send."""
import time

import pytest

import memberlist_wire as wire
from memberlist_peer import ACTIVE, LEAVING, LEFT, RING_KEY, PeerProcess, wait_for


@pytest.fixture
def peers():
    started = []

    def start(**kwargs):
        p = PeerProcess(**kwargs)
        started.append(p)
        return p

    yield start
    for p in started:
        p.kill()


def ring_value(instances, update_time_millis=0):
    desc = wire.ring_desc({i: wire.instance_desc(**fields) for i, fields in instances.items()})
    return wire.key_value_pair(RING_KEY, wire.snappy_literal(desc), update_time_millis=update_time_millis)


def instance(state=ACTIVE, timestamp=None, tokens=(7, 70, 700, 7000)):
    now = int(time.time())
    return dict(addr="127.0.0.1:9095", timestamp=timestamp or now, state=state, tokens=list(tokens),
                registered_timestamp=now - 5, id="sw-raw")


def test_two_peers_see_each_other_and_gossip_the_ring(peers):
    a = peers(name="peer-a", extra=["-register=inst-a"])
    b = peers(name="peer-b", join=[a.address])

    names = lambda p: sorted(m["name"] for m in p.members())
    assert wait_for(lambda: names(a) == names(b) == ["peer-a", "peer-b"], 5), (a.members(), b.members(), b.log())
    assert {m["addr"] for m in b.members()} == {a.address, b.address}

    # b learns a's instance from the join's push/pull, then newer heartbeats by gossip.
    first = wait_for(lambda: b.instance("inst-a"), 5)
    assert first and first["state"] == ACTIVE and first["tokens"] == [1000, 2000, 3000, 4000], b.log()
    assert first["addr"] == a.address
    assert wait_for(lambda: b.instance("inst-a")["timestamp"] > first["timestamp"], 4), b.log()
    assert b.ring()["merges"] >= 2
    for p in (a, b):
        stats = p.stats()
        assert stats["digest_mismatches"] == stats["bad_frames"] == 0, stats
        assert stats["packets_received"] > 0
    assert "push/pull state (join=true" in b.log()


def test_push_pull_with_no_nodes_and_only_user_state(peers):
    """What a writer that is not a memberlist member can send: the exact frame memberlist accepts."""
    a = peers(name="peer-a")
    state = wire.user_state([ring_value({"sw-raw": instance()})])
    assert len(state) < 128
    frame = wire.push_pull_frame(state)
    # stream, pushPull, msgpack {"Nodes": 0, "UserStateLen": n, "Join": false}, then the user state.
    header = bytes.fromhex("0206" "83" "a54e6f646573" "00" "ac5573657253746174654c656e") + bytes([len(state)]) \
        + bytes.fromhex("a44a6f696e" "c2")
    assert frame == header + state

    # Kept open until the peer answers (no half-close): the reply is its state *before* the merge.
    reply = wire.exchange(a.address, frame, half_close=False)
    assert reply[0] == wire.COMPRESS_MSG, reply[:8].hex()  # compression is on, as in dskit
    kind, body = wire.decode_stream_message(reply)
    assert kind == wire.PUSH_PULL_MSG
    header, nodes, state = wire.decode_push_pull(body)
    assert header["Join"] is False and header["UserStateLen"] == 0
    assert [n["Name"] for n in nodes] == [b"peer-a"] and nodes[0]["Port"] == a.port
    assert nodes[0]["Vsn"] == bytes([1, 5, 2, 0, 0, 0])  # pmin pmax pcur dmin dmax dcur

    got = a.instance("sw-raw")
    assert got and (got["addr"], got["state"], got["tokens"], got["id"]) == ("127.0.0.1:9095", ACTIVE, [7, 70, 700, 7000], "sw-raw")
    assert a.members() == [{"name": "peer-a", "addr": a.address}]  # user state alone does not make a member

    # A second push/pull (half-closed this time) gets the ring back in the reply.
    _, body = wire.decode_stream_message(wire.exchange(a.address, frame))
    _, _, state = wire.decode_push_pull(body)
    pairs = wire.split_user_state(state)
    assert len(pairs) == 1 and RING_KEY.encode() in pairs[0] and b"ringDesc" in pairs[0]


def test_user_messages_by_stream_and_by_packet(peers):
    a = peers(name="peer-a")
    now = int(time.time())
    assert wire.exchange(a.address, wire.user_message_stream_frame(ring_value({"sw-raw": instance(timestamp=now)}))) == b""
    assert wait_for(lambda: a.instance("sw-raw"), 2)["state"] == ACTIVE

    leaving = ring_value({"sw-raw": instance(state=LEAVING, timestamp=now + 1)})
    assert wire.exchange(a.address, wire.user_message_packet_frame(leaving)) == b""
    assert wait_for(lambda: a.instance("sw-raw")["state"] == LEAVING, 2), a.log()

    # An older ACTIVE entry loses; LEFT wins on an equal timestamp and drops the tokens.
    wire.exchange(a.address, wire.user_message_packet_frame(ring_value({"sw-raw": instance(timestamp=now)})))
    wire.exchange(a.address, wire.user_message_packet_frame(ring_value({"sw-raw": instance(state=LEFT, timestamp=now + 1)})))
    left = wait_for(lambda: a.instance("sw-raw")["state"] == LEFT and a.instance("sw-raw"), 2)
    assert left and left["timestamp"] == now + 1 and left["tokens"] == [], a.log()
    assert a.ring()["merges"] == 4
    assert a.stats()["digest_mismatches"] == 0

    # A corrupted digest is still delivered (dskit only logs it) and counted.
    frame = bytearray(wire.user_message_packet_frame(ring_value({"sw-raw": instance(timestamp=now + 2)})))
    frame[-1] ^= 0xFF
    wire.exchange(a.address, bytes(frame))
    assert wait_for(lambda: a.stats()["digest_mismatches"] == 1, 2)
