"""Shared fixtures: gRPC stubs generated from our own .proto files, and the shared test data."""
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# As for the Swift tests (TestSupport/TestData.swift): SEGMENT_WRITER_TESTDATA, else ../shared/testdata.
TESTDATA = pathlib.Path(os.environ.get("SEGMENT_WRITER_TESTDATA") or ROOT.parent / "shared" / "testdata")
PROTOS = pathlib.Path(__file__).resolve().parent / "protos"
# The toolchain the Makefile builds with (its SWIFT), for tests that run a Swift test suite.
SWIFT = os.environ.get("SWIFT", "swift")


@pytest.fixture(scope="session")
def protos(tmp_path_factory):
    """Compiles Tests/Python/protos with grpcio-tools; attribute a__b__c imports module a.b.c.

    The files sit under pyroscope_api/ because a top-level `types` package would shadow
    Python's standard `types` module; proto package names (and so gRPC paths) are unchanged.
    """
    from grpc_tools import protoc
    import importlib

    out = tmp_path_factory.mktemp("protos")
    files = [str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto")]
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    rc = protoc.main(["protoc", f"-I{PROTOS}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}", *files])
    assert rc == 0, "protoc failed"
    for d in out.rglob("*"):
        if d.is_dir():
            (d / "__init__.py").touch()
    sys.path.insert(0, str(out))

    class Importer:
        def __getattr__(self, name):
            return importlib.import_module(name.replace("__", "."))

    return Importer()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skipped test fails: a missing peer or package must not turn a suite green."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI: {report.longrepr}"
