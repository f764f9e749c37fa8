"""The writer's S3 credentials when `-storage.s3.access-key-id` is empty, against moto with IAM
auth on (every request's signature checked, an assumed role's session token compared): the
environment, the shared credentials file with temporary credentials, and no credentials at all.
IAM's sources: test_s3_iam_credentials.py.
"""
import json
import os
import subprocess

import grpc
import pytest

from server_process import SegmentWriterProcess, bin_dir
from test_durable_flush_faults import push
from test_object_storage_s3 import BUCKET, provision, start_moto


@pytest.fixture
def moto(tmp_path):
    proc, url = start_moto(tmp_path, ssl=False)
    try:
        key, s3 = provision(url)
        yield url, key, s3
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def clean_env(tmp_path, **extra):
    """This process's environment without AWS settings, HOME an empty directory, the EC2 instance
    metadata service off (a writer must never ask 169.254.169.254 from a test), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path / "home")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return dict(env, **extra)


def s3_flags(url, bucket=BUCKET, region="us-east-1"):
    """The writer's flags for `bucket` on moto at `url`; no region flag when `region` is empty."""
    return ["-storage.backend=s3", "-storage.s3.insecure=true", f"-storage.s3.endpoint={url.split('://')[1]}",
            f"-storage.s3.bucket-name={bucket}"] + ([f"-storage.s3.region={region}"] if region else [])


def push_one_and_list(protos, tmp_path, url, s3, env, *flags, bucket=BUCKET):
    """Starts the writer (`s3_flags` unless `flags`), pushes one profile; its log lines and the bucket's keys."""
    proc = SegmentWriterProcess(tmp_path / "data", *(flags or s3_flags(url)), "-segment-writer.segment-duration=200ms", env=env)
    try:
        with grpc.insecure_channel(proc.grpc_target) as channel:
            _, code, details, _ = push(protos, channel)
        assert code == grpc.StatusCode.OK, details + "".join(proc.lines)
        return proc.lines, [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    finally:
        proc.kill()


def test_environment_credentials_sign_the_uploads(protos, moto, tmp_path):
    url, key, s3 = moto
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    lines, keys = push_one_and_list(protos, tmp_path, url, s3, env)
    assert any(k.startswith("segments/1/anonymous/") and k.endswith("/block.bin") for k in keys), keys
    assert any('msg="s3 credentials" source=environment' in line for line in lines), lines


def test_shared_file_session_token_is_sent_and_signed(protos, moto, tmp_path):
    """An assumed role's credentials in a non-default profile: moto refuses a request whose
    x-amz-security-token is missing or differs, and recomputes the signature over it."""
    url, key, s3 = moto
    import boto3
    auth = dict(endpoint_url=url, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                region_name="us-east-1")
    iam = boto3.client("iam", **auth)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="writer", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_role_policy(RoleName="writer", PolicyName="allow-all", PolicyDocument=json.dumps(allow))
    temporary = boto3.client("sts", **auth).assume_role(RoleArn=role["Arn"], RoleSessionName="segment-writer")["Credentials"]
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = wrong\n\n"
                           f"[ci]\naws_access_key_id = {temporary['AccessKeyId']}\n"
                           f"aws_secret_access_key = {temporary['SecretAccessKey']}\n"
                           f"aws_session_token = {temporary['SessionToken']}\n")
    env = clean_env(tmp_path, AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_PROFILE="ci")
    lines, keys = push_one_and_list(protos, tmp_path, url, s3, env)
    assert any(k.endswith("/block.bin") for k in keys), keys
    assert any(f'source="{credentials} [ci]"' in line for line in lines), lines


def test_no_credentials_refuses_to_start(moto, tmp_path):
    """With the instance metadata service off, no source is left to ask: the configuration is refused."""
    url, _, _ = moto
    run = subprocess.run([str(bin_dir() / "segment-writer"), *s3_flags(url)], env=clean_env(tmp_path),
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 1, run.stderr
    assert "-storage.s3.access-key-id is empty and no S3 credentials were found" in run.stderr
    assert "AWS_EC2_METADATA_DISABLED is true, so no instance profile is asked for" in run.stderr
