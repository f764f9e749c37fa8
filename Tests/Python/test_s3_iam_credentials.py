"""The writer's IAM credentials (`-storage.s3.access-key-id` empty, nothing in the environment or
the shared credentials file), against moto with IAM auth on: web identity through moto's STS, and
the EC2 instance metadata service (IMDSv2) and container credentials served by a loopback HTTP
server that hands out credentials of roles moto assumed. Refresh: the first credentials expire
within seconds, their role then loses its permissions, and uploads go on with the second set.
"""
import datetime
import http.server
import json
import subprocess
import threading
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError
import grpc
import pytest

from server_process import SegmentWriterProcess, bin_dir, free_port
from test_durable_flush_faults import push
from test_object_storage_s3 import BUCKET
from test_s3_credentials import clean_env, moto, push_one_and_list, s3_flags  # noqa: F401 (moto: fixture)

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                 "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]}]}
IMDS_TOKEN = "imds-session-token-1"


def admin(url, key, service):
    return boto3.client(service, endpoint_url=url, aws_access_key_id=key["AccessKeyId"],
                        aws_secret_access_key=key["SecretAccessKey"], region_name="us-east-1")


def create_role(url, key, name):
    """A role moto lets do anything; its ARN."""
    iam = admin(url, key, "iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="allow-all", PolicyDocument=json.dumps(ALLOW_ALL))
    return arn


def assumed(url, key, name):
    """Temporary credentials of a new role `name`, as moto's STS hands them out."""
    arn = create_role(url, key, name)
    return admin(url, key, "sts").assume_role(RoleArn=arn, RoleSessionName="segment-writer")["Credentials"]


def expiring_in(seconds):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class CredentialServer:
    """A loopback IMDS (IMDSv2: the session token is required on the credential GETs) or
    container credentials endpoint (`authorization` required). Hands out `sets` in turn, the
    last one from then on: (credentials, seconds until their Expiration)."""

    def __init__(self, sets, authorization=None):
        self.sets, self.authorization, self.requests, self.handed_out = sets, authorization, [], 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body, content_type="text/plain"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                server.requests.append(("PUT", self.path, dict(self.headers)))
                if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") == "21600":
                    return self.answer(200, IMDS_TOKEN)
                self.answer(400, "bad token request")

            def do_GET(self):
                server.requests.append(("GET", self.path, dict(self.headers)))
                if self.path.startswith("/latest/"):
                    if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                        return self.answer(401, "")
                    if self.path == "/latest/meta-data/iam/security-credentials/":
                        return self.answer(200, "writer-role\n")
                    if self.path == "/latest/meta-data/iam/security-credentials/writer-role":
                        return self.answer(200, server.next_credentials(Code="Success", Type="AWS-HMAC"), "application/json")
                elif self.path == "/credentials":
                    if self.headers.get("Authorization") != server.authorization:
                        return self.answer(403, "")
                    return self.answer(200, server.next_credentials(RoleArn="arn:aws:iam::123456789012:role/writer"),
                                       "application/json")
                self.answer(404, "")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def next_credentials(self, **extra):
        credentials, seconds = self.sets[min(self.handed_out, len(self.sets) - 1)]
        self.handed_out += 1
        return json.dumps(dict(extra, AccessKeyId=credentials["AccessKeyId"], SecretAccessKey=credentials["SecretAccessKey"],
                               Token=credentials["SessionToken"], Expiration=expiring_in(seconds)))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def imds_env(tmp_path, server):
    env = clean_env(tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT=server.url)
    del env["AWS_EC2_METADATA_DISABLED"]
    return env


def test_web_identity_credentials_sign_the_uploads(protos, moto, tmp_path):
    """IRSA: the writer reads the token file and asks STS (moto's, unsigned as the real one is
    asked) for the role's credentials; moto then checks every S3 request's signature and token."""
    url, key, s3 = moto
    arn = create_role(url, key, "irsa")
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6cHlyb3Njb3BlIn0.c2ln\n")
    env = clean_env(tmp_path, AWS_WEB_IDENTITY_TOKEN_FILE=str(token), AWS_ROLE_ARN=arn,
                    AWS_ROLE_SESSION_NAME="segment-writer", AWS_ENDPOINT_URL_STS=url)
    # moto's auth checks every call after its first N; AssumeRoleWithWebIdentity is unsigned, so
    # let exactly one call (the writer's first: STS, before any S3 request) go unchecked.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset-auth", data=b"1", method="POST", headers={"Content-Type": "text/plain"}), timeout=5).read()
    lines, keys = push_one_and_list(protos, tmp_path, url, s3, env)
    assert any(k.startswith("segments/1/anonymous/") and k.endswith("/block.bin") for k in keys), keys
    assert any('msg="s3 credentials" source=web-identity' in line for line in lines), lines


def test_instance_profile_credentials_sign_the_uploads(protos, moto, tmp_path):
    """IMDSv2: a session token first, then the role's name and credentials with the token."""
    url, key, s3 = moto
    server = CredentialServer([(assumed(url, key, "instance"), 3600)])
    try:
        lines, keys = push_one_and_list(protos, tmp_path, url, s3, imds_env(tmp_path, server))
    finally:
        server.close()
    assert any(k.endswith("/block.bin") for k in keys), keys
    assert any('msg="s3 credentials" source=instance-profile' in line for line in lines), lines
    put, roles, credentials = server.requests[:3]
    assert put[:2] == ("PUT", "/latest/api/token"), server.requests
    assert roles[:2] == ("GET", "/latest/meta-data/iam/security-credentials/"), server.requests
    assert credentials[:2] == ("GET", "/latest/meta-data/iam/security-credentials/writer-role"), server.requests
    assert all(r[2].get("X-aws-ec2-metadata-token") == IMDS_TOKEN for r in (roles, credentials)), server.requests


def test_container_credentials_sign_the_uploads(protos, moto, tmp_path):
    """ECS/EKS Pod Identity: the full URI, with the authorization token read from its file."""
    url, key, s3 = moto
    server = CredentialServer([(assumed(url, key, "task"), 3600)], authorization="Bearer pod-identity-token")
    token = tmp_path / "pod-token"
    token.write_text("Bearer pod-identity-token")
    env = clean_env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{server.url}/credentials",
                    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token))
    try:
        lines, keys = push_one_and_list(protos, tmp_path, url, s3, env)
    finally:
        server.close()
    assert any(k.endswith("/block.bin") for k in keys), keys
    assert any('msg="s3 credentials" source=container' in line for line in lines), lines
    assert server.requests[0][2].get("Authorization") == "Bearer pod-identity-token", server.requests


def test_credentials_are_refreshed_before_they_expire(protos, moto, tmp_path):
    """The first credentials expire 4 s after they are handed out; the writer fetches the second
    set before that. Once it has, the first set's role loses every permission in moto: uploads
    still succeed, so they are signed with the second set."""
    url, key, s3 = moto
    first = assumed(url, key, "first")
    server = CredentialServer([(first, 4), (assumed(url, key, "second"), 3600)])
    proc = SegmentWriterProcess(tmp_path / "data", *s3_flags(url), "-segment-writer.segment-duration=200ms",
                                env=imds_env(tmp_path, server))
    try:
        deadline = time.monotonic() + 15
        while server.handed_out < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.handed_out == 2, "".join(proc.lines)
        admin(url, key, "iam").delete_role_policy(RoleName="first", PolicyName="allow-all")
        refused = boto3.client("s3", endpoint_url=url, aws_access_key_id=first["AccessKeyId"], region_name="us-east-1",
                               aws_secret_access_key=first["SecretAccessKey"], aws_session_token=first["SessionToken"])
        with pytest.raises(ClientError, match="AccessDenied"):
            refused.put_object(Bucket=BUCKET, Key="probe", Body=b"x")
        time.sleep(4)  # the first set's Expiration has passed too
        with grpc.insecure_channel(proc.grpc_target) as channel:
            _, code, details, _ = push(protos, channel)
        assert code == grpc.StatusCode.OK, details + "".join(proc.lines)
        assert server.handed_out == 2, "the second set lasts an hour: no further fetch"
        assert not any("refresh failed" in line for line in proc.lines), proc.lines
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        assert any(k.endswith("/block.bin") for k in keys), keys
    finally:
        proc.kill()
        server.close()


def test_no_instance_metadata_service_fails_start_up_fast(moto, tmp_path):
    """Nothing in the environment or files, and IMDS (a closed loopback port) does not answer:
    start-up fails within seconds and says what it asked."""
    url, _, _ = moto
    port = free_port()
    env = clean_env(tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{port}")
    del env["AWS_EC2_METADATA_DISABLED"]
    start = time.monotonic()
    run = subprocess.run([str(bin_dir() / "segment-writer"), *s3_flags(url)], env=env, capture_output=True, text=True, timeout=30)
    took = time.monotonic() - start
    assert run.returncode == 1, run.stderr
    assert took < 5, took
    assert "start-up failed" in run.stderr
    assert "-storage.s3.access-key-id is empty and no S3 credentials were found: " in run.stderr
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set" in run.stderr
    assert f"EC2 instance profile at http://127.0.0.1:{port}: " in run.stderr
