"""Starts Tests/Peers/memberlist-peer (a hashicorp/memberlist node with dskit's TCP transport and ring KV)."""
import json
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request

from go_peers import go_peer
from protowire import bytes_field, uvarint, varint_field

RING_KEY = "collectors/segment-writer-ring"
ACTIVE, LEAVING, PENDING, JOINING, LEFT = range(5)


def peer_binary():
    return go_peer("memberlist-peer", "peer", "MEMBERLIST_PEER")


def wait_for(check, timeout, interval=0.1):
    """Polls `check` until it returns something truthy or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class PeerProcess:
    LISTENING = re.compile(r"peer listening memberlist=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)")

    def __init__(self, *, name, port=0, join=(), extra=()):
        args = [str(peer_binary()), f"-name={name}", f"-port={port}", "-http-port=0", *extra]
        args += [f"-join={j}" for j in join]
        self.name = name
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.port = self.http_port = None
        self._ready = threading.Event()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self._ready.wait(10) or self.port is None:
            self.kill()
            raise AssertionError(f"peer {name} did not start:\n" + "".join(self.lines))

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            m = self.LISTENING.search(line)
            if m:
                self.port, self.http_port = int(m.group(1)), int(m.group(2))
                self._ready.set()
        self._ready.set()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def _get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=5) as r:
            return json.load(r)

    def ring(self, key=RING_KEY):
        """{"instances": {id: {addr, timestamp, state, tokens, registered_timestamp, id, zone}}, "merges": n}."""
        return self._get(f"/ring?key={key}")

    def instance(self, instance_id, key=RING_KEY):
        return self.ring(key)["instances"].get(instance_id)

    def members(self):
        return self._get("/members")

    def stats(self):
        return self._get("/stats")

    def log(self):
        return "".join(self.lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _snappy_literals(data):
    """The snappy block format written as literals only (valid for every decoder)."""
    out = bytearray(uvarint(len(data)))
    for start in range(0, len(data), 65536):
        chunk = data[start:start + 65536]
        out += bytes([61 << 2]) + (len(chunk) - 1).to_bytes(2, "little") + chunk
    return bytes(out)


def publish_instances(peer_address, instances, key=RING_KEY):
    """Puts `instances` ({id: (addr, unix timestamp, state, tokens)}) into a peer's ring the way a
    lifecycler's push/pull does (a dskit merge: the newer timestamp wins); returns the reply's size."""
    desc = b"".join(
        bytes_field(1, bytes_field(1, iid.encode()) + bytes_field(2, bytes_field(1, addr.encode()) + varint_field(2, ts)
                                                  + varint_field(3, state)
                                                  + bytes_field(6, b"".join(uvarint(t) for t in tokens))
                                                  + bytes_field(9, iid.encode())))
        for iid, (addr, ts, state, tokens) in instances.items())
    pair = bytes_field(1, key.encode()) + bytes_field(2, _snappy_literals(desc)) + bytes_field(3, b"ringDesc")
    state = len(pair).to_bytes(4, "big") + pair
    header = (bytes([0x83, 0xA5]) + b"Nodes" + b"\x00" + bytes([0xAC]) + b"UserStateLen"
              + bytes([0xCE]) + len(state).to_bytes(4, "big") + bytes([0xA4]) + b"Join" + b"\xc2")
    host, port = peer_address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(bytes([2, 6]) + header + state)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return len(reply)
