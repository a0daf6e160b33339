"""FTPS: certificates are verified, session reuse works, TLS mistakes are explained."""

from __future__ import annotations

import ftplib
import io
import ssl
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from portway.files import ConnectError
from portway_ftp.certificates import make_certificates
from portway_ftp.client import FtpClient
from portway_ftp.demo_server import DemoServer, HandlerOptions
from portway_ftp.errors import CertificateRejected, TlsRefused

USER, PASSWORD = "tester", "s3cret-Pass"


@pytest.mark.parametrize("mode", ["explicit", "implicit"])
def test_certificate_from_an_unknown_ca_is_rejected(servers: Any, mode: str) -> None:
    with pytest.raises(CertificateRejected) as rejected:
        servers.open(mode, ca_file="")  # system store: it does not know the test CA
    assert "give its CA as ca_file" in str(rejected.value)
    assert rejected.value.reply is None
    with servers.open(mode) as client:  # the same server, its CA given
        assert client.ping() > 0


def test_certificate_signed_by_another_ca_is_rejected(servers: Any, tmp_path: Path) -> None:
    other = make_certificates(tmp_path / "other")
    with pytest.raises(CertificateRejected, match="not signed by a CA in ca_file"):
        servers.open("explicit", ca_file=str(other.ca_file))


def test_self_signed_server_certificate_needs_itself_as_ca(tmp_path: Path) -> None:
    # A lone self-signed certificate, as many small servers have: rejected until trusted.
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "self.pem", tmp_path / "self.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    root = tmp_path / "root"
    root.mkdir()
    from portway_ftp.certificates import CertificateFiles

    files = CertificateFiles(cert_file, cert_file, key_file, cert_file, key_file)
    server = DemoServer()
    port = server.listen("tls", HandlerOptions(root, USER, PASSWORD, tls="explicit", certificates=files))
    server.start()
    try:
        from portway_ftp.settings import FtpSettings

        base = {"host": "127.0.0.1", "port": port, "username": USER, "password": PASSWORD, "tls": "explicit"}
        with pytest.raises(CertificateRejected, match="self.signed|self-signed"):
            FtpClient.open(FtpSettings.model_validate(base))
        with FtpClient.open(FtpSettings.model_validate({**base, "ca_file": str(cert_file)})) as client:
            client.write(b"trusted now", "x.txt")
            assert (root / "x.txt").read_bytes() == b"trusted now"
    finally:
        server.stop()


def test_hostname_mismatch_is_rejected(servers: Any, tmp_path: Path) -> None:
    elsewhere = make_certificates(tmp_path / "elsewhere", names=("files.example.com",))
    root = tmp_path / "other-root"
    root.mkdir()
    server = DemoServer()
    options = HandlerOptions(root, USER, PASSWORD, tls="explicit", certificates=elsewhere)
    port = server.listen("tls", options)
    server.start()
    try:
        settings = servers.settings("explicit", port=port, ca_file=str(elsewhere.ca_file))
        with pytest.raises(CertificateRejected) as rejected:
            FtpClient.open(settings)
        assert "not for '127.0.0.1'" in str(rejected.value)
        # Turning the check off is possible, explicit, and logged as a warning.
        relaxed = settings.model_copy(update={"verify_hostname": False})
        with capture_logs() as logs, FtpClient.open(relaxed) as client:
            client.write(b"ok", "ok.txt")
        warnings = [e for e in logs if e["log_level"] == "warning"]
        assert warnings and warnings[0]["event"] == "ftp_hostname_check_off"
        # The chain is still verified with the check off: another CA is still refused.
        with pytest.raises(CertificateRejected):
            FtpClient.open(relaxed.model_copy(update={"ca_file": str(servers.certs.ca_file)}))
    finally:
        server.stop()


def test_data_connections_are_encrypted_and_resume_the_session(servers: Any) -> None:
    with servers.open("explicit") as client:
        client.write(b"secret", "s.txt")
        conn, _ = client.control.ntransfercmd("RETR /s.txt")
        with conn:
            assert isinstance(conn, ssl.SSLSocket)
            assert conn.session_reused
            assert conn.recv(100) == b"secret"
        assert client.control.voidresp().startswith("226")


def test_vsftpd_requires_session_reuse_and_we_do_it(vsftpd: Any, vsftpd_dir: Any) -> None:
    local, seen = vsftpd_dir
    # ftplib's own FTP_TLS does not resume the TLS session: vsftpd refuses its data connection.
    plain = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=str(vsftpd.certs.ca_file)), timeout=10)
    plain.connect("localhost", vsftpd.port)
    plain.login("portway-ftp-test", vsftpd.password)
    plain.prot_p()
    with pytest.raises((ftplib.Error, ssl.SSLError, OSError)):
        plain.storbinary(f"STOR {seen}/refused.txt", io.BytesIO(b"x"))
    plain.close()
    with FtpClient.open(vsftpd.settings(directory=seen)) as client:
        client.write(b"accepted", "accepted.txt")
        assert (local / "accepted.txt").read_bytes() == b"accepted"
    assert not (local / "refused.txt").exists() or (local / "refused.txt").stat().st_size == 0


def test_vsftpd_refuses_plain_ftp_with_a_clear_message(vsftpd: Any) -> None:
    settings = vsftpd.settings(tls="none", ca_file="")
    with pytest.raises(TlsRefused) as refused:
        FtpClient.open(settings)
    assert "set tls=explicit" in str(refused.value)
    assert refused.value.reply.startswith("530")


def test_explicit_tls_against_a_plain_server(servers: Any) -> None:
    with pytest.raises(TlsRefused, match="refused AUTH TLS") as refused:
        servers.open("explicit", port=servers.port("plain"))
    assert refused.value.reply.startswith("5")


def test_implicit_tls_against_an_explicit_port(servers: Any) -> None:
    with pytest.raises(TlsRefused, match="TLS handshake failed"):
        servers.open("implicit", port=servers.port("explicit"), connect_timeout_s=3)


def test_missing_ca_file_names_the_setting(servers: Any, tmp_path: Path) -> None:
    with pytest.raises(ConnectError, match="setting 'ca_file': no such file"):
        servers.open("explicit", ca_file=str(tmp_path / "nope.pem"))


def test_client_certificate_is_presented(tmp_path: Path, certs: Any) -> None:
    from OpenSSL import SSL

    root = tmp_path / "root"
    root.mkdir()

    # A server that insists on a client certificate signed by the test CA.
    context = SSL.Context(SSL.TLS_SERVER_METHOD)
    context.use_certificate_chain_file(str(certs.cert_file))
    context.use_privatekey_file(str(certs.key_file))
    context.load_verify_locations(str(certs.ca_file))
    context.set_session_id(b"portway-ftp-test")  # lets data connections resume the session
    context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *args: bool(args[-1]))
    server = DemoServer()
    options = HandlerOptions(
        root, USER, PASSWORD, tls="explicit", certificates=certs, extra={"ssl_context": context}
    )
    port = server.listen("mtls", options)
    server.start()
    try:
        from portway_ftp.settings import FtpSettings

        base = {
            "host": "127.0.0.1",
            "port": port,
            "username": USER,
            "password": PASSWORD,
            "tls": "explicit",
            "ca_file": str(certs.ca_file),
            "connect_timeout_s": 5,
        }
        with pytest.raises(ConnectError):
            FtpClient.open(FtpSettings.model_validate(base))
        with_cert = {**base, "cert_file": str(certs.client_cert_file), "key_file": str(certs.client_key_file)}
        with FtpClient.open(FtpSettings.model_validate(with_cert)) as client:
            client.write(b"mutual", "m.txt")
        assert (root / "m.txt").read_bytes() == b"mutual"
    finally:
        server.stop()
