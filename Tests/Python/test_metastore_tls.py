"""AddBlock over TLS and mTLS (`-metastore.grpc-client-config.tls-*`, dskit's grpcclient TLS flags)
against the grpcio metastore double served with grpc.ssl_server_credentials. Certificates are made
here, for loopback only: a CA, a server certificate for 127.0.0.1/localhost, a client certificate."""
import datetime
import ipaddress
import subprocess

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server_process import SegmentWriterProcess, bin_dir
from test_metastore_addblock import MetastoreDouble, dlq_objects, push_all, writer  # noqa: F401 (fixture)
from test_segment_writer_server import blocks

TLS = "-metastore.grpc-client-config."


class Issuer:
    """A CA that signs leaf certificates; PEM files under `directory`."""

    def __init__(self, directory, name):
        self.directory, self.name = directory, name
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (self._builder(subject, self.key.public_key(), subject)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                                  key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.path = self._write(f"{name}.pem", self.cert.public_bytes(serialization.Encoding.PEM))

    @staticmethod
    def _builder(subject, public_key, issuer):
        now = datetime.datetime.now(datetime.timezone.utc)
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1)))

    def _write(self, name, data):
        path = self.directory / name
        path.write_bytes(data)
        return path

    def leaf(self, name, dns=(), ips=(), usage=ExtendedKeyUsageOID.SERVER_AUTH):
        """(certificate PEM, key PEM, certificate path, key path) for `name`."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (self._builder(subject, key.public_key(), self.cert.subject)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        alt = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if alt:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        cert = builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return cert, key_pem, self._write(f"{name}.crt", cert), self._write(f"{name}.key", key_pem)


@pytest.fixture
def pki(tmp_path):
    ca = Issuer(tmp_path, "metastore-ca")
    return {"ca": ca, "other": Issuer(tmp_path, "other-ca"),
            "server": ca.leaf("metastore", dns=["localhost"], ips=["127.0.0.1"]),
            "client": ca.leaf("segment-writer", usage=ExtendedKeyUsageOID.CLIENT_AUTH)}


@pytest.fixture
def serve(protos):
    started = []

    def make(server_cert, client_ca=None):
        """A double with `server_cert`; with `client_ca`, it requires a client certificate it signed."""
        cert, key = server_cert[0], server_cert[1]
        credentials = grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca,
                                                  require_client_auth=client_ca is not None)
        double = MetastoreDouble(protos, credentials=credentials)
        started.append(double)
        return double

    yield make
    for d in started:
        d.stop()


def push_and_expect_registered(protos, proc, metastore):
    assert push_all(protos, proc, [1])[0][0] == grpc.StatusCode.OK
    [block] = blocks(proc.data_dir)
    assert [m.id for _, m in metastore.blocks()] == [block.parts[-2]], "registered once, over TLS"
    assert not dlq_objects(proc.data_dir)


def push_and_expect_dlq(protos, proc, metastore, reason=None):
    """AddBlock fails as with an unreachable metastore: the metadata lands in the DLQ, then the push is answered OK."""
    assert push_all(protos, proc, [1])[0][0] == grpc.StatusCode.OK
    [block] = blocks(proc.data_dir)
    [dlq] = dlq_objects(proc.data_dir)
    assert dlq.parts[-2] == block.parts[-2]
    assert not metastore.blocks(), "nothing reached AddBlock"
    logged = [line for line in proc.lines if "failed to store meta in metastore" in line]
    assert logged, "".join(proc.lines)
    if reason:
        assert reason in logged[0], logged[0]
    return logged[0]


def test_tls_with_ca_registers_block(protos, pki, serve, writer):
    metastore = serve(pki["server"])
    proc = writer(f"-metastore.address={metastore.address}", f"{TLS}tls-enabled=true", f"{TLS}tls-ca-path={pki['ca'].path}", data="w")
    push_and_expect_registered(protos, proc, metastore)


def test_tls_by_yaml_registers_block(protos, pki, serve, writer, tmp_path):
    metastore = serve(pki["server"])
    config = tmp_path / "config.yaml"
    config.write_text(f"metastore:\n  address: {metastore.address}\n  grpc_client_config:\n"
                      f"    tls_enabled: true\n    tls_ca_path: {pki['ca'].path}\n")
    proc = writer(f"-config.file={config}", data="w")
    push_and_expect_registered(protos, proc, metastore)


def test_mtls_registers_with_client_certificate_and_dlqs_without(protos, pki, serve, writer):
    metastore = serve(pki["server"], client_ca=pki["ca"].cert.public_bytes(serialization.Encoding.PEM))
    common = [f"-metastore.address={metastore.address}", f"{TLS}tls-enabled=true", f"{TLS}tls-ca-path={pki['ca'].path}"]
    with_cert = writer(*common, f"{TLS}tls-cert-path={pki['client'][2]}", f"{TLS}tls-key-path={pki['client'][3]}", data="mtls")
    push_and_expect_registered(protos, with_cert, metastore)
    with_cert.kill()
    metastore.calls.clear()
    without = writer(*common, data="no-cert")
    push_and_expect_dlq(protos, without, metastore)


def test_untrusted_ca_fails_verification_to_dlq(protos, pki, serve, writer):
    metastore = serve(pki["server"])
    proc = writer(f"-metastore.address={metastore.address}", f"{TLS}tls-enabled=true", f"{TLS}tls-ca-path={pki['other'].path}", data="w")
    line = push_and_expect_dlq(protos, proc, metastore, reason="metastore TLS with 127.0.0.1")
    assert "certificate verification" in line, line


def test_server_name_override(protos, pki, serve, writer):
    # This certificate names only metastore.pyroscope.svc: dialled as 127.0.0.1, only the override matches.
    metastore = serve(pki["ca"].leaf("named", dns=["metastore.pyroscope.svc"]))
    common = [f"-metastore.address={metastore.address}", f"{TLS}tls-enabled=true", f"{TLS}tls-ca-path={pki['ca'].path}"]
    wrong = writer(*common, f"{TLS}tls-server-name=other.pyroscope.svc", data="wrong")
    push_and_expect_dlq(protos, wrong, metastore, reason="metastore TLS with other.pyroscope.svc")
    wrong.kill()
    unset = writer(*common, data="unset")
    push_and_expect_dlq(protos, unset, metastore, reason="metastore TLS with 127.0.0.1")
    unset.kill()
    right = writer(*common, f"{TLS}tls-server-name=metastore.pyroscope.svc", data="right")
    push_and_expect_registered(protos, right, metastore)


def start_up_error(tmp_path, *flags):
    out = subprocess.run([str(bin_dir() / "segment-writer"), "-server.grpc-listen-port=0", "-server.http-listen-port=0",
                          f"-storage.filesystem.dir={tmp_path / 'data'}", "-metastore.address=127.0.0.1:1",
                          f"{TLS}tls-enabled=true", *flags], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1, out.stderr
    return out.stderr


def test_unusable_tls_files_fail_start_up_naming_flag_and_file(pki, tmp_path):
    missing = tmp_path / "missing.crt"
    err = start_up_error(tmp_path, f"{TLS}tls-cert-path={missing}", f"{TLS}tls-key-path={pki['client'][3]}")
    assert f"{TLS}tls-cert-path: cannot load client certificate {missing}" in err, err
    err = start_up_error(tmp_path, f"{TLS}tls-cert-path={pki['client'][2]}", f"{TLS}tls-key-path={pki['server'][3]}")
    assert f"{TLS}tls-key-path: cannot load client key {pki['server'][3]}" in err, err
    not_pem = tmp_path / "not-a-ca.pem"
    not_pem.write_text("not a certificate\n")
    err = start_up_error(tmp_path, f"{TLS}tls-ca-path={not_pem}")
    assert f"{TLS}tls-ca-path: cannot load CA file {not_pem}" in err, err
    err = start_up_error(tmp_path, f"{TLS}tls-cert-path={pki['client'][2]}")
    assert "certificate given but no key configured" in err, err
    err = start_up_error(tmp_path, f"{TLS}tls-min-version=VersionTLS10")
    assert "VersionTLS10 is not supported" in err, err
