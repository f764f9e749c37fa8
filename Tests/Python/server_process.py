"""Starts the built segment-writer binary on free loopback ports with a temporary data dir."""
import os
import pathlib
import re
import resource
import signal
import socket
import subprocess
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port():
    """A loopback TCP port nothing listens on (bound to port 0, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics_text(proc):
    """The writer's `/metrics` exposition (`proc`: anything with an `http_port` on loopback)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{proc.http_port}/metrics", timeout=5) as r:
        return r.read().decode()


def metric_values(proc):
    """Each exposed series (`name{labels}` as written) and its value."""
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in metrics_text(proc).splitlines()
            if line and not line.startswith("#")}


def bin_dir():
    if os.environ.get("SWIFT_BIN_PATH"):
        return pathlib.Path(os.environ["SWIFT_BIN_PATH"])
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True)
    return pathlib.Path(out.stdout.strip())


class SegmentWriterProcess:
    # `127.0.0.1:PORT`, or `[::]:PORT` / `[::1]:PORT` for IPv6 and every interface.
    ADDRESS = r'(?:[\d.]+|\[[\da-fA-F:.]*\])'
    LISTENING = re.compile(rf'msg="server listening" grpc={ADDRESS}:(\d+) http={ADDRESS}:(\d+)')

    def __init__(self, data_dir, *flags, listen_address="127.0.0.1", open_files=None, env=None):
        """`listen_address` goes to both listen-address flags ("" = every interface, IPv4 and IPv6);
        `open_files` (soft, hard) sets the process's RLIMIT_NOFILE before it starts; `env` replaces
        the process's environment."""
        self.data_dir = pathlib.Path(data_dir)
        binary = bin_dir() / "segment-writer"
        assert binary.exists(), f"{binary} missing: run `swift build --product segment-writer` first"
        args = [str(binary), f"-server.grpc-listen-address={listen_address}", "-server.grpc-listen-port=0",
                f"-server.http-listen-address={listen_address}", "-server.http-listen-port=0",
                f"-storage.filesystem.dir={self.data_dir}", "-segment-writer.event-loops=2", *flags]
        limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, open_files)) if open_files else None
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit, env=env)
        self.lines = []
        self._ready = threading.Event()
        self.grpc_port = self.http_port = None
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self._ready.wait(30):
            self.proc.kill()
            raise AssertionError("server did not start:\n" + "".join(self.lines))
        assert self.grpc_port, "server exited:\n" + "".join(self.lines)
        self._wait_serving()

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            m = self.LISTENING.search(line)
            if m:
                self.grpc_port, self.http_port = int(m.group(1)), int(m.group(2))
            if "segment-writer serving" in line:
                self._ready.set()
        self._ready.set()

    def _wait_serving(self):
        for _ in range(200):
            if any("segment-writer serving" in line for line in self.lines):
                return
            time.sleep(0.01)

    @property
    def grpc_target(self):
        return f"127.0.0.1:{self.grpc_port}"

    def terminate(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
