"""Measures Push acknowledgement latency against a running segment-writer.

    .venv/bin/python Tests/Python/ack_latency.py [--target 127.0.0.1:9095] [--pushes 200] [--concurrency 8]

Each Push is answered only after its segment is durable, so latency ≈ wait for the next
segment tick (0…segment duration) + encode + fsync'd upload. Prints p50/p99/max in ms of the
Pushes answered OK, and how many were answered with each error status. The jitter pause runs in
the worker, so fewer than --concurrency Pushes are in flight at a time.
"""
import argparse
import collections
import concurrent.futures
import pathlib
import sys
import time
import uuid

import grpc

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from conftest import PROTOS, TESTDATA  # noqa: E402


def compile_protos():
    import importlib
    import tempfile
    from grpc_tools import protoc
    out = pathlib.Path(tempfile.mkdtemp())
    files = [str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto")]
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    assert protoc.main(["protoc", f"-I{PROTOS}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}", *files]) == 0
    for d in out.rglob("*"):
        if d.is_dir():
            (d / "__init__.py").touch()
    sys.path.insert(0, str(out))
    return (importlib.import_module("pyroscope_api.segmentwriter.v1.push_pb2"),
            importlib.import_module("pyroscope_api.segmentwriter.v1.push_pb2_grpc"),
            importlib.import_module("pyroscope_api.types.v1.types_pb2"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="127.0.0.1:9095")
    ap.add_argument("--pushes", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--jitter-ms", type=float, default=500,
                    help="random pause before each Push, so clients are not in step with the flush ticks")
    ap.add_argument("--profile", default=str(TESTDATA / "pprof" / "profile_python"))
    args = ap.parse_args()
    push_pb2, push_grpc, types_pb2 = compile_protos()
    profile = pathlib.Path(args.profile).read_bytes()
    channels = [grpc.insecure_channel(args.target) for _ in range(args.concurrency)]
    labels = [types_pb2.LabelPair(name="__name__", value="process_cpu"), types_pb2.LabelPair(name="service_name", value="latency")]

    import random

    def one(i):
        time.sleep(random.uniform(0, args.jitter_ms / 1000))
        req = push_pb2.PushRequest(tenant_id="anonymous", labels=labels, profile=profile,
                                   profile_id=uuid.uuid4().bytes, shard=1 + i % 4)
        start = time.perf_counter()
        try:
            push_grpc.SegmentWriterServiceStub(channels[i % len(channels)]).Push(req, timeout=30)
        except grpc.RpcError as e:
            return None, e.code().name
        return (time.perf_counter() - start) * 1000, None

    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(one, range(args.concurrency)))  # warm-up: connections, first segment
        results = list(pool.map(one, range(args.pushes)))
    latencies = sorted(ms for ms, _ in results if ms is not None)
    errors = collections.Counter(code for _, code in results if code is not None)
    line = f"pushes={len(results)} ok={len(latencies)} concurrency={args.concurrency} jitter={args.jitter_ms:.0f}ms"
    if latencies:
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
        line += f" p50={pick(0.50):.1f}ms p99={pick(0.99):.1f}ms max={latencies[-1]:.1f}ms"
    line += " errors=" + (",".join(f"{code}:{n}" for code, n in sorted(errors.items())) or "none")
    print(line)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
