"""The writer's signing region without `-storage.s3.region`, against moto: an endpoint whose host
names no region (here a loopback address) makes the writer ask the bucket (GetBucketLocation)."""
from test_s3_credentials import clean_env, moto, push_one_and_list, s3_flags  # noqa: F401 (moto: fixture)


def test_unnamed_region_is_asked_of_the_bucket(protos, moto, tmp_path):
    url, key, s3 = moto
    s3.create_bucket(Bucket="in-frankfurt", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    flags = s3_flags(url, bucket="in-frankfurt", region="")
    lines, keys = push_one_and_list(protos, tmp_path, url, s3, env, *flags, bucket="in-frankfurt")
    assert any(k.endswith("/block.bin") for k in keys), keys
    assert any('msg="s3 region" region=eu-central-1' in line for line in lines), lines
