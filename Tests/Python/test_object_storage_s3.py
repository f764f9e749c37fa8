"""ObjectStorage against a real S3 server: moto in server mode on loopback, with IAM auth on.

moto honours INITIAL_NO_AUTH_ACTION_COUNT=4: the first four calls are unauthenticated; we use them
to create an IAM user, its access key and an allow-all policy. From then on every request is
signature-checked, so a wrong secret gets SignatureDoesNotMatch. Our Swift client is driven by the
S3LiveTests suite (`swift test --filter S3LiveTests`), configured through OBJSTORE_S3_* variables;
the objects it wrote are then read back here with boto3 and compared byte for byte.
"""
import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest

import boto3
from botocore.config import Config  # noqa: E402

from server_process import free_port  # noqa: E402
from conftest import SWIFT  # noqa: E402

# moto --ssl serves a self-signed certificate; boto3 talks to it with verify=False on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

ROOT = pathlib.Path(__file__).resolve().parents[2]
MOTO_SERVER = pathlib.Path(sys.executable).parent / "moto_server"
BUCKET = "pyroscope-segments"
PREFIX = "writer-a"
KEYS = [
    "segments/1/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ1/block.bin",
    "segments/12/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ2/block.bin",
    "dlq/12/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ2/meta.pb",
    "segments/3/anonymous/01J2VJR31PT3X4NDJC4Q2BHWQ3/odd key+name$=~.bin",
]


def start_moto(tmp_path, ssl):
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="4")
    log = open(tmp_path / f"moto-{port}.log", "w")
    cmd = [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)] + (["--ssl"] if ssl else [])
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / f"moto-{port}.log").read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"{'https' if ssl else 'http'}://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto_server did not start")


def provision(url):
    """The four unauthenticated calls: user, access key, allow-all policy, bucket."""
    anonymous = dict(aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap", region_name="us-east-1", verify=False)
    iam = boto3.client("iam", endpoint_url=url, **anonymous)
    iam.create_user(UserName="segment-writer")
    key = iam.create_access_key(UserName="segment-writer")["AccessKey"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="segment-writer", PolicyName="allow-all", PolicyDocument=json.dumps(policy))
    s3 = boto3.client(
        "s3", endpoint_url=url, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        region_name="us-east-1", verify=False, config=Config(s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket=BUCKET)
    return key, s3


@pytest.fixture(params=[False, True], ids=["http", "https"])
def moto(request, tmp_path):
    proc, url = start_moto(tmp_path, ssl=request.param)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_swift_client_writes_objects_boto3_reads_back(moto, tmp_path):
    key, s3 = provision(moto)
    payload = os.urandom(3 << 20)
    payload_file = tmp_path / "payload.bin"
    payload_file.write_bytes(payload)
    env = dict(
        os.environ,
        OBJSTORE_S3_ENDPOINT=moto,
        OBJSTORE_S3_BUCKET=BUCKET,
        OBJSTORE_S3_ACCESS_KEY_ID=key["AccessKeyId"],
        OBJSTORE_S3_SECRET_ACCESS_KEY=key["SecretAccessKey"],
        OBJSTORE_S3_PREFIX=PREFIX,
        OBJSTORE_S3_PAYLOAD_FILE=str(payload_file),
        OBJSTORE_S3_KEYS=",".join(KEYS),
    )
    run = subprocess.run(
        [SWIFT, "test", "--filter", "ObjectStorageTests.S3LiveTests"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert "S3LiveTests skipped" not in output, "the live suite did not run"
    assert "wrongSecretFailsWithSignatureDoesNotMatch() passed" in output
    assert "ringDrivenStoreWritesAndReadsBack() passed" in output
    if moto.startswith("https://"):
        assert "tlsWithVerificationRefusesASelfSignedCertificate() passed" in output

    for i, name in enumerate(KEYS):
        expected = payload if i == 0 else payload[: i * 1000]
        body = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{name}")["Body"].read()
        assert body == expected, name
    loop_written = f"{PREFIX}/segments/7/anonymous/loop/block.bin"
    assert s3.get_object(Bucket=BUCKET, Key=loop_written)["Body"].read() == payload
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert listed == {f"{PREFIX}/{k}" for k in KEYS} | {loop_written}, "nothing else (no wrong-secret object) was stored"


def test_wrong_secret_is_refused_by_the_server(moto):
    """Guards the arrangement itself: auth is really on once the four free calls are spent."""
    key, _ = provision(moto)
    bad = boto3.client(
        "s3", endpoint_url=moto, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="wrong",
        region_name="us-east-1", verify=False, config=Config(s3={"addressing_style": "path"}),
    )
    with pytest.raises(Exception, match="SignatureDoesNotMatch"):
        bad.put_object(Bucket=BUCKET, Key="x", Body=b"1")
