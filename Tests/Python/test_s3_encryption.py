"""`-storage.s3.sse.*` against moto: the objects the writer puts are stored with the encryption
asked for (moto records SSE-S3 and SSE-KMS with its key; it checks each request's signature over
the encryption headers, which the writer signs)."""
import pytest

from test_s3_credentials import clean_env, moto, push_one_and_list, s3_flags  # noqa: F401 (moto: fixture)
from test_object_storage_s3 import BUCKET

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/segment-writer"


@pytest.mark.parametrize("flags, expected", [
    (["-storage.s3.sse.type=SSE-S3"], {"ServerSideEncryption": "AES256"}),
    (["-storage.s3.sse.type=SSE-KMS", f"-storage.s3.sse.kms-key-id={KMS_KEY}",
      '-storage.s3.sse.kms-encryption-context={"service": "pyroscope"}'],
     {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_KEY}),
], ids=["sse-s3", "sse-kms"])
def test_uploads_are_encrypted_as_asked(protos, moto, tmp_path, flags, expected):
    url, key, s3 = moto
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    _, keys = push_one_and_list(protos, tmp_path, url, s3, env, *s3_flags(url), *flags)
    assert any(k.endswith("/block.bin") for k in keys), keys
    for k in keys:
        head = s3.head_object(Bucket=BUCKET, Key=k)
        assert {name: head.get(name) for name in expected} == expected, (k, head)
