"""Our .proto definitions against the byte examples of the specs, with the real protobuf runtime."""


def test_push_request_matches_spec_example(protos):
    push = protos.pyroscope_api__segmentwriter__v1__push_pb2
    types = protos.pyroscope_api__types__v1__types_pb2
    pprof = bytes.fromhex(
        "0a040801100212090a0101120480ade20422060801220208012a040801100332003203637075"
        "320b6e616e6f7365636f6e647332046d61696e488080a8b1e39fe7cb175a04080110026080ade204"
    )
    req = push.PushRequest(
        tenant_id="anonymous",
        labels=[types.LabelPair(name="__name__", value="process_cpu"), types.LabelPair(name="service_name", value="my-app")],
        profile=pprof,
        profile_id=bytes.fromhex("0f8fad5bd9cb469fa16570867728950e"),
        shard=10,
        annotations=[types.ProfileAnnotation(
            key="pyroscope.ingest.sampled",
            value='{"body":{"source":{"usageGroup":"g","probability":0.5}}}')],
    )
    wire = req.SerializeToString()
    assert len(wire) == 246  # ingest-and-ops.md §1.7
    assert wire.startswith(bytes.fromhex("0a09616e6f6e796d6f7573"))
    assert bytes.fromhex("2a100f8fad5bd9cb469fa16570867728950e300a") in wire


def test_block_meta_dlq_size_field(protos):
    types = protos.pyroscope_api__metastore__v1__types_pb2
    meta = types.BlockMeta(format_version=1, id="01J2VJR31PT3X4NDJC4Q2BHWQ1", shard=1, created_by=1, size=23049,
                           string_table=["", "segment-writer-0"], metadata_offset=22613)
    wire = meta.SerializeToString()
    # segment-object.md §9.2: size 23049 encodes as 48 89 b4 01, metadata_offset as 60 d5 b0 01.
    assert bytes.fromhex("4889b401") in wire
    assert wire.endswith(bytes.fromhex("60d5b001"))
