"""The start-up bucket health check is bounded as a whole, as upstream's context.WithTimeout
bounds it: an S3 endpoint that drips its answer never lets one read wait the whole timeout, yet
the writer still starts (the failure is only logged)."""
import socket
import threading
import time

from server_process import SegmentWriterProcess


class DrippingEndpoint:
    """Loopback "S3" that reads a request and answers one byte of a never-ending head every 0.3 s."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn):
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            head = b"HTTP/1.1 200 OK\r\n" + b"X-Drip: " + b"a" * 1_000_000
            for byte in head:
                if self.stopped.wait(0.3):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self):
        self.stopped.set()
        self.listener.close()


def test_a_dripping_endpoint_fails_the_check_at_its_timeout_and_the_writer_starts(tmp_path):
    endpoint = DrippingEndpoint()
    started = time.monotonic()
    try:
        server = SegmentWriterProcess(
            tmp_path, "-storage.backend=s3", f"-storage.s3.endpoint=127.0.0.1:{endpoint.port}",
            "-storage.s3.insecure=true", "-storage.s3.bucket-name=bucket", "-storage.s3.access-key-id=key",
            "-storage.s3.secret-access-key=secret", "-segment-writer.bucket-health-check-timeout=1s")
    finally:
        endpoint.close()
    try:
        assert time.monotonic() - started < 10, "".join(server.lines)
        failures = [line for line in server.lines if "bucket health check failed" in line]
        assert failures and "no whole answer within 1000 ms" in failures[0], "".join(server.lines)
    finally:
        server.terminate()
