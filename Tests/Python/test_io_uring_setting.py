"""-segment-writer.io-uring-enabled=false against the built binary: the loops get no ring (the
path taken where a seccomp profile refuses io_uring_setup), and Pushes are still answered only
once their segment is durable."""
import os

import grpc

from conftest import TESTDATA
from server_process import SegmentWriterProcess
from test_segment_writer_server import blocks, call_status, check_objects, make_request, stub

PROFILE = (TESTDATA / "pprof" / "heap").read_bytes()


def io_uring_fds(pid):
    """File descriptors of the process that are io_uring instances."""
    fd_dir = f"/proc/{pid}/fd"
    count = 0
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) == "anon_inode:[io_uring]":
                count += 1
        except OSError:
            pass
    return count


def push_to(protos, proc, shards):
    with grpc.insecure_channel(proc.grpc_target) as channel:
        push = stub(protos, channel).Push
        for shard in shards:
            code, details = call_status(lambda: push(make_request(protos, PROFILE, shard=shard), timeout=10))
            assert code == grpc.StatusCode.OK, details
            # Acknowledged only once its segment was durable: the object is there already.
            assert any(int(p.parts[-4]) == shard for p in blocks(proc.data_dir))


def test_default_server_uploads_through_io_uring(protos, tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.segment-duration=100ms")
    try:
        # One ring per event loop (two loops).
        assert io_uring_fds(proc.proc.pid) == 2
        push_to(protos, proc, [1])
    finally:
        proc.kill()


def test_disabled_io_uring_uses_blocking_uploads_and_stays_durable(protos, tmp_path):
    proc = SegmentWriterProcess(tmp_path / "data", "-segment-writer.io-uring-enabled=false",
                                "-segment-writer.segment-duration=100ms")
    try:
        assert io_uring_fds(proc.proc.pid) == 0
        assert "io_uring disabled by configuration" in "".join(proc.lines)
        push_to(protos, proc, [1, 2, 3])
        check_objects(protos, proc.data_dir, {1, 2, 3})
    finally:
        proc.kill()
