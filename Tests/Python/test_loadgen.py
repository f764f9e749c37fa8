"""The loadgen binary end to end: a short closed-loop run against a segment-writer it starts
itself, judged by its --json output, the HTML report and the objects left in the bucket."""
import json
import subprocess
import time

from conftest import TESTDATA
from server_process import SegmentWriterProcess, bin_dir
from test_metastore_addblock import GoMetastoreDouble
from test_object_storage_s3 import BUCKET, provision, start_moto
from test_segment_writer_server import segtool


def ulid_at(unix_seconds):
    """A ULID whose time part is `unix_seconds` (Crockford base32, 48-bit milliseconds)."""
    alphabet, ms = "0123456789ABCDEFGHJKMNPQRSTVWXYZ", int(unix_seconds * 1000)
    return "".join(alphabet[(ms >> (5 * i)) & 31] for i in reversed(range(10))) + "A" * 16


def run_loadgen(data, loadgen_args, server_args=(), exit_code=0):
    """loadgen --json --quiet against a segment-writer it starts with two loops and its bucket in
    `data` (unless `server_args` name another); exits `exit_code`; its stderr and parsed report."""
    loadgen, server = bin_dir() / "loadgen", bin_dir() / "segment-writer"
    assert loadgen.exists() and server.exists(), "run `swift build` first"
    out = subprocess.run(
        [str(loadgen), "--spawn-server", str(server), "--data-dir", str(data), "--corpus", str(TESTDATA / "pprof"),
         "--json", "--quiet", *loadgen_args, "--", "-segment-writer.event-loops=2",
         # This tests loadgen, not the server under a loaded machine: a debug build's fsync'd
         # uploads can pass the 2 s default there, which would answer UNKNOWN.
         "-segment-writer.upload-timeout=30s", *server_args],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == exit_code, out.stdout + out.stderr
    return out.stderr, json.loads(out.stdout)


def test_closed_loop_run_against_a_spawned_server(tmp_path):
    data, report = tmp_path / "data", tmp_path / "report"
    _, result = run_loadgen(data, ["--duration", "3s", "--warmup", "1s", "--connections", "2", "--streams", "8",
                                   "--shards", "2", "--report", str(report), "--audit"])
    run = result["run"]

    assert run["mode"] == "closed" and run["durationSeconds"] == 3
    t = run["throughput"]
    assert t["ackedProfiles"] > 0 and t["profilesPerSec"] > 0
    assert 0 < t["compressedMBps"] < t["decompressedMBps"]  # gzip payloads
    assert run["errors"]["total"] == 0, run["errors"]
    l = run["latencyMs"]
    assert l["count"] > 0
    assert 0 < l["p50"] <= l["p90"] <= l["p99"] <= l["p999"] <= l["max"]
    assert len(run["corpusSkipped"]) == 3 and len(run["corpusFiles"]) > 0

    server_usage = run["server"]
    assert server_usage["samples"] >= 3 and server_usage["rssMinBytes"] > 0
    assert server_usage["rssMinBytes"] <= server_usage["rssLastBytes"] <= server_usage["rssMaxBytes"]

    # One object per shard per segment duration, never more. Objects are counted by their
    # ULID time (the segment's open time, one per flush tick) inside the measured window
    # [s, s + W): a half-open window of length W holds at most floor(W / P) + 1 ticks of
    # period P, so a shard may show one more object than W / P without ever flushing twice
    # in a period: the ratio bound is 1 + P / W (1.17 for 500 ms in 3 s).
    objects = run["objects"]
    assert objects["segmentDurationMs"] == 500 and objects["windowMs"] == 3000
    assert objects["shardsActive"] >= 1 and objects["objects"] >= 1
    assert set(objects["objectsPerShard"]) <= {"0", "1"}
    bound = 1 + objects["segmentDurationMs"] / objects["windowMs"]
    assert objects["maxPerShardPerSegment"] <= bound + 1e-9, objects

    # The objects loadgen's pushes produced are readable segments.
    blocks = sorted(data.glob("segments/*/anonymous/*/block.bin"))
    assert blocks
    verified = subprocess.run([segtool(), "verify", *map(str, blocks[:4])], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # --audit read every object back after the server's drain: each push answered OK is in
    # exactly one of them, and nothing else is.
    audit = result["audit"]
    assert audit["objects"] == len(blocks)
    assert audit["acked"] >= t["ackedProfiles"] and audit["sent"] >= audit["acked"]
    assert audit["storedProfiles"] == audit["acked"], audit
    assert (audit["lost"], audit["unknown"], audit["duplicated"], audit["unreadable"]) == (0, 0, 0, []), audit
    # No metastore: every object's metadata is in the DLQ, and names it.
    assert audit["metadataChecked"] and (audit["unregistered"], audit["orphanMetadata"]) == (0, 0), audit

    html = (report / "index.html").read_text()
    assert '<svg id="latency-over-time"' in html and '<svg id="latency-distribution"' in html
    assert '<h2 id="audit">Durability audit: passed</h2>' in html and f"{audit['acked']} of {audit['sent']} pushes acked OK" in html
    assert "<script" not in html and "src=" not in html


def test_sigterm_with_pushes_in_flight_loses_no_acknowledged_push(tmp_path):
    # Two loops, 2 s segments, 64 pushes in flight on 4 shards when the window ends: loadgen sends
    # SIGTERM then and nothing more. The drain flushes what the server holds and answers it; the
    # audit then finds every push answered OK in exactly one object. A push whose message the
    # server reads after the signal is refused UNAVAILABLE (the distributor would send it to
    # another writer) and stored nowhere.
    stderr, result = run_loadgen(tmp_path / "data", ["--duration", "3s", "--warmup", "0s", "--connections", "2",
                                                     "--streams", "32", "--shards", "4", "--audit", "--terminate-at-end"],
                                 ["-segment-writer.segment-duration=2s"])
    run, audit = result["run"], result["audit"]
    errors = run["errors"]
    assert set(errors["byStatus"]) <= {"UNAVAILABLE"} and errors["unanswered"] == 0, errors
    assert errors["messages"].get("UNAVAILABLE", "service is unavailable") == "service is unavailable", errors
    after_window = [i["profiles"] for i in run["intervals"] if i["second"] >= 3]
    assert sum(after_window) > 0, "no push was answered by the drain"
    assert audit["passed"] and audit["lost"] == 0 and audit["storedProfiles"] == audit["acked"], audit
    # The audit's ledger covers the whole run, the error totals only pushes started in the window,
    # and the clock starts 20 ms after the connections may: every answer counted per second counts.
    answered_not_ok = sum(i["errors"] for i in run["intervals"])
    assert audit["storedUnacknowledged"] == 0, audit
    assert audit["sent"] == audit["acked"] + answered_not_ok + errors["unanswered"], (audit, errors, run["intervals"])
    assert audit["metadataChecked"] and (audit["unregistered"], audit["orphanMetadata"]) == (0, 0), audit
    assert "segment-writer exited with status 0" in stderr


def test_under_load_every_object_is_registered_once_with_a_grpc_go_metastore(protos, tmp_path):
    # Two loops, 4 shards, 2 s of closed-loop load: every object the bucket holds was registered
    # with the metastore (the grpc-go double) exactly once, none went to the DLQ, and the audit,
    # asking the metastore with GetBlockMetadata, finds each object registered and every push
    # answered OK stored once.
    metastore = GoMetastoreDouble(protos)
    try:
        data = tmp_path / "data"
        _, result = run_loadgen(data, ["--duration", "2s", "--warmup", "0s", "--connections", "2", "--streams", "16", "--audit"],
                                [f"-metastore.address={metastore.address}"])
        audit = result["audit"]
        objects = sorted(b.parts[-2] for b in data.glob("segments/*/anonymous/*/block.bin"))
        assert audit["passed"] and audit["acked"] > 0 and audit["metastoreChecked"], audit
        assert audit["registeredInMetastore"] == audit["objects"] == len(objects) > 0, audit
        assert (audit["unregistered"], audit["orphanMetadata"]) == (0, 0), audit
        assert sorted(m.id for _, m in metastore.blocks()) == objects, "each object registered exactly once"
        assert not list(data.glob("dlq/*/anonymous/*/meta.pb"))
    finally:
        metastore.stop()


def audit_with_a_go_metastore(protos, data, behaviour, server_args=(), exit_code=0):
    """A 1 s closed-loop --audit run of a writer registering with the grpc-go metastore double
    (`behaviour`); the audit and how many blocks AddBlock was offered."""
    metastore = GoMetastoreDouble(protos, behaviour=behaviour)
    try:
        _, result = run_loadgen(data, ["--duration", "1s", "--warmup", "0s", "--connections", "1", "--streams", "4",
                                       "--shards", "2", "--audit"],
                                [f"-metastore.address={metastore.address}", *server_args], exit_code=exit_code)
        return result["audit"], len(metastore.blocks())
    finally:
        metastore.stop()


def test_the_audit_fails_when_the_metastore_lost_what_it_acknowledged(protos, tmp_path):
    # An amnesic metastore answers AddBlock OK and keeps nothing: the writer acknowledges every
    # push, and no reader could ever find one. The audit asks the metastore, finds none of the
    # objects there nor in the DLQ, and fails (exit 1).
    audit, offered = audit_with_a_go_metastore(protos, tmp_path / "data", "amnesic", exit_code=1)
    assert audit["lost"] == 0 and audit["acked"] > 0 and audit["metastoreChecked"], audit
    assert audit["registeredInMetastore"] == 0 and audit["unregistered"] == audit["objects"] > 0, audit
    assert audit["unregisteredAcknowledged"] == audit["objects"] and not audit["passed"], audit
    assert offered == audit["objects"], "every object was offered to AddBlock"


def test_a_metastore_that_fails_addblock_leaves_the_metadata_in_the_dlq_and_the_audit_finds_it(protos, tmp_path):
    # AddBlock fails UNKNOWN, so every object's metadata goes to the DLQ (the default fallback):
    # the audit asks the metastore, finds nothing there, then every object in the DLQ, and passes.
    data = tmp_path / "data"
    audit, _ = audit_with_a_go_metastore(protos, data, "unknown", ["-segment-writer.metadata-update-timeout=300ms"])
    records = list(data.glob("dlq/*/anonymous/*/meta.pb"))
    assert audit["passed"] and audit["metastoreChecked"] and audit["registeredInMetastore"] == 0, audit
    assert audit["objects"] == len(records) > 0 and audit["unregistered"] == 0, audit


def test_the_audit_reads_an_s3_bucket_through_the_servers_own_flags(tmp_path):
    # The server writes to moto (signatures checked) under a prefix; loadgen opens the same bucket
    # from the server's flags and reads every object and DLQ record back through S3. Run 2 finds a
    # DLQ record planted before it, with no object, and fails: the audit saw the bucket, not a
    # directory that happens to be empty.
    moto, url = start_moto(tmp_path, ssl=False)
    try:
        key, s3 = provision(url)
        flags = ["-storage.backend=s3", "-storage.s3.insecure=true", f"-storage.s3.endpoint={url.removeprefix('http://')}",
                 f"-storage.s3.bucket-name={BUCKET}", "-storage.s3.region=us-east-1",
                 f"-storage.s3.access-key-id={key['AccessKeyId']}", f"-storage.s3.secret-access-key={key['SecretAccessKey']}"]
        args = ["--duration", "2s", "--warmup", "0s", "--connections", "2", "--streams", "8", "--shards", "2", "--audit"]
        data = tmp_path / "data"
        _, result = run_loadgen(data, args, [*flags, "-storage.prefix=writer-a"])
        audit = result["audit"]
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="writer-a/")["Contents"]]
        blocks = [k for k in listed if k.startswith("writer-a/segments/") and k.endswith("/block.bin")]
        records = [k for k in listed if k.startswith("writer-a/dlq/") and k.endswith("/meta.pb")]
        assert blocks and len(records) == len(blocks), listed
        assert audit["passed"] and audit["objects"] == len(blocks), audit
        assert audit["acked"] > 0 and audit["storedProfiles"] == audit["acked"], audit
        assert audit["metadataChecked"] and (audit["unregistered"], audit["orphanMetadata"]) == (0, 0), audit
        assert not list(data.glob("**/block.bin")), "nothing went to the filesystem"

        record = s3.get_object(Bucket=BUCKET, Key=records[0])["Body"].read()
        # Its ULID time is the run's (records of segments opened before the run are not judged).
        s3.put_object(Bucket=BUCKET, Key=f"writer-b/dlq/9/anonymous/{ulid_at(time.time() + 1)}/meta.pb", Body=record)
        _, failed = run_loadgen(data, [*args, "--seed", "7"], [*flags, "-storage.prefix=writer-b"], exit_code=1)
        audit = failed["audit"]
        assert not audit["passed"] and audit["orphanMetadata"] == 1, audit
        assert audit["lost"] == 0 and audit["unregistered"] == 0 and audit["objects"] > 0, audit
    finally:
        moto.terminate()
        moto.wait(timeout=10)


def test_the_audit_of_a_running_target_reads_the_bucket_its_flags_name(tmp_path):
    # A writer loadgen did not start (as in a cluster under test): `--target` and, after `--`, the
    # writer's own flags, which name its bucket. Every push answered OK is already stored, so the
    # audit needs no drain. The second run shares the bucket with the first: only segments opened
    # since it began (less a segment and 2 s) are read, and ids it never sent (others' pushes, as
    # another client of a running writer makes) are reported without failing it.
    data = tmp_path / "data"
    server = SegmentWriterProcess(data, "-segment-writer.segment-duration=200ms")
    try:
        loadgen = bin_dir() / "loadgen"
        audits, reports = [], []
        for seed, audit in (("1", ["--audit"]), ("2", ["--audit"]), ("3", [])):
            out = subprocess.run(
                [str(loadgen), "--target", server.grpc_target, "--corpus", str(TESTDATA / "pprof"), "--json", "--quiet",
                 "--duration", "2s", "--warmup", "0s", "--connections", "2", "--streams", "8", "--seed", seed, *audit,
                 "--", f"-storage.filesystem.dir={data}", "-segment-writer.segment-duration=200ms"],
                capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, out.stdout + out.stderr
            assert (f"reading the bucket back: filesystem:{data}" in out.stderr) == bool(audit)
            reports.append(json.loads(out.stdout))
            audits.append(reports[-1].get("audit"))
        assert audits.pop() is None, "run 3 was not audited"
        blocks = list(data.glob("segments/*/anonymous/*/block.bin"))
        for audit in audits:
            assert audit["passed"] and audit["othersMayPush"] and audit["acked"] > 0, audit
            assert audit["storedProfiles"] == audit["acked"] + audit["unknown"], audit
            assert audit["metadataChecked"] and (audit["unregistered"], audit["orphanMetadata"]) == (0, 0), audit
        assert audits[0]["unknown"] == 0, "nothing but the first run was in the bucket"
        # The census reads the same bucket: one object per active shard per 200 ms segment (run 3,
        # not audited, from the flags after `--` alone).
        census = [r["run"]["objects"] for r in reports]
        assert all(c["segmentDurationMs"] == 200 and c["objects"] > 0 for c in census), census
        assert all(c["maxPerShardPerSegment"] <= 1 + 200 / c["windowMs"] + 1e-9 for c in census), census
        assert audits[1]["objects"] < len(blocks), "the first run's segments were left out"
    finally:
        server.kill()


def test_options_that_need_a_mode_say_which():
    """An option only one mode reads is refused without that mode, not silently ignored."""
    for args, needs in [(["--write-object", "x.bin"], "--write-object needs --in-process-passes or --series-flush"),
                        (["--only", "heap"], "--only needs --in-process-passes")]:
        out = subprocess.run([str(bin_dir() / "loadgen"), *args], capture_output=True, text=True, timeout=30)
        assert out.returncode != 0 and needs in out.stderr, out.stderr
