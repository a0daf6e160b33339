"""Open a tuned, verified and authenticated SSH transport for one connection.

Order of precedence for where and as whom to connect, as in OpenSSH: the
``ssh_options`` (``-o``) first, then the connection's own fields, then the
ssh config file's ``Host`` block, then defaults.
"""

from __future__ import annotations

import getpass
import io
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from portway_sftp.config_files import read_known_hosts, read_ssh_config
from portway_sftp.failures import (
    AuthenticationFailed,
    ConnectionRefused,
    ConnectTimedOut,
    HostKeyRejected,
    HostNotFound,
)
from portway_sftp.options import SshOptions, parse_jump, parse_options
from portway_sftp.settings import SftpSettings

if TYPE_CHECKING:
    import paramiko

log = structlog.get_logger("portway.sftp")

# Fastest first on x86-64 with AES-NI; all are supported by paramiko >= 3.3.
CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr", "aes192-ctr")
MACS = ("hmac-sha2-256-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-512")
# A channel window of a few MiB keeps a LAN link busy; far larger ones only queue
# data that paramiko then has to handle in one go. Packets of 32 KiB measured
# faster than larger ones: paramiko reassembles big packets piece by piece.
WINDOW_SIZE = 4 * 1024 * 1024
MAX_PACKET_SIZE = 32 * 1024


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect, after ssh config and options are applied."""

    alias: str
    hostname: str
    port: int
    username: str
    identity_files: tuple[str, ...]
    known_hosts_file: str
    accept_new: bool
    proxy_jump: str | None
    connect_timeout: float
    options: SshOptions

    @property
    def address(self) -> str:
        return f"{self.hostname}:{self.port}"

    @property
    def known_hosts_name(self) -> str:
        """How known_hosts names this server: ``host`` on port 22, else ``[host]:port``."""
        return self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"


def resolve(settings: SftpSettings) -> Endpoint:
    """Merge settings, ``ssh_options`` and the ssh config file into one :class:`Endpoint`."""

    options = parse_options(settings.ssh_options)
    config: dict[str, Any] = {}
    if settings.ssh_config_file:
        path = Path(settings.ssh_config_file).expanduser()
        if not path.is_file():
            raise HostNotFound(str(path), "ssh_config_file does not exist; fix the path or clear it")
        config = dict(read_ssh_config(path).lookup(settings.host))
    hostname = options.hostname or config.get("hostname") or settings.host
    port = options.port or settings.port or int(config.get("port", 22))
    username = options.user or settings.username or config.get("user") or getpass.getuser()
    identities = options.identity_files or tuple(config.get("identityfile", ()))
    if settings.private_key_file:
        identities = (settings.private_key_file, *identities)
    known_hosts = options.known_hosts_file or settings.known_hosts_file
    default_known_hosts = SftpSettings.model_fields["known_hosts_file"].default
    if "userknownhostsfile" in config and not options.known_hosts_file and known_hosts == default_known_hosts:
        known_hosts = str(config["userknownhostsfile"]).split()[0]  # the config beats only the default
    accept_new = settings.host_key_policy == "accept-new"
    if options.accept_new is not None:
        accept_new = options.accept_new
    elif str(config.get("stricthostkeychecking", "")).lower() == "accept-new":
        accept_new = True
    jump = options.proxy_jump or config.get("proxyjump")
    if jump and jump.lower() == "none":
        jump = None
    timeout = options.connect_timeout or float(config.get("connecttimeout", settings.connect_timeout))
    return Endpoint(
        alias=settings.host,
        hostname=str(hostname),
        port=int(port),
        username=str(username),
        identity_files=tuple(str(Path(i).expanduser()) for i in identities),
        known_hosts_file=str(Path(known_hosts).expanduser()),
        accept_new=accept_new,
        proxy_jump=jump,
        connect_timeout=timeout,
        options=options,
    )


def open_transport(
    settings: SftpSettings, endpoint: Endpoint, log_channel: str | None = None
) -> paramiko.Transport:
    """Connect, check the host key, log in; raise a ConnectError subclass on any failure."""
    import paramiko

    sock = _jump_socket(settings, endpoint) if endpoint.proxy_jump else _tcp_socket(endpoint)
    transport = paramiko.Transport(
        sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET_SIZE
    )
    try:
        if log_channel:
            transport.set_log_channel(log_channel)
        _prefer_algorithms(transport, endpoint)
        if endpoint.options.compression:
            transport.use_compression(True)
        try:
            transport.start_client(timeout=endpoint.connect_timeout)
        except paramiko.SSHException as exc:
            raise _negotiation_error(endpoint, exc) from exc
        if not getattr(transport, "initial_kex_done", True):  # start_client returns quietly on timeout
            waited = f"{endpoint.connect_timeout:g} s"
            raise ConnectTimedOut(endpoint.address, f"no answer within {waited} during the SSH handshake")
        check_host_key(transport, endpoint)
        authenticate(transport, settings, endpoint)
        if endpoint.options.keepalive_s:
            transport.set_keepalive(endpoint.options.keepalive_s)
    except BaseException:
        close_transport(transport)
        raise
    return transport


def close_transport(transport: paramiko.Transport) -> None:
    """Close a transport and, when it runs through ProxyJump channels, every jump host's too."""
    import paramiko

    sock = transport.sock
    transport.close()
    if isinstance(sock, paramiko.Channel):
        close_transport(sock.get_transport())


def _tcp_socket(endpoint: Endpoint) -> socket.socket:
    try:
        infos = socket.getaddrinfo(endpoint.hostname, endpoint.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise HostNotFound(
            endpoint.address, f"cannot resolve host name {endpoint.hostname!r} ({exc.strerror})"
        ) from exc
    last: OSError | None = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(endpoint.connect_timeout)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        # Small SFTP requests must not wait for Nagle's algorithm.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        return sock
    if isinstance(last, TimeoutError | socket.timeout):
        raise ConnectTimedOut(
            endpoint.address, f"no answer within {endpoint.connect_timeout:g} s (host down or firewalled?)"
        )
    if isinstance(last, ConnectionRefusedError):
        raise ConnectionRefused(endpoint.address, "connection refused: no SSH server listens on that port")
    reason = (last.strerror if last else None) or str(last)
    raise ConnectionRefused(endpoint.address, f"cannot connect: {reason}")


def _jump_socket(settings: SftpSettings, endpoint: Endpoint) -> Any:
    """A channel through the ProxyJump host(s), carrying the TCP stream to the target.

    ``ProxyJump a,b`` visits the hosts in order, as OpenSSH does: ``a`` directly,
    ``b`` through ``a``, the target through ``b``. So the last hop is the one to
    open the channel from, and it is reached through the hops before it.
    """
    assert endpoint.proxy_jump is not None
    try:
        *earlier, last = parse_jump(endpoint.proxy_jump)
    except ValueError as exc:  # from ssh_config: ssh_options were checked when saved
        raise ConnectionRefused(endpoint.address, f"{exc} (in ProxyJump {endpoint.proxy_jump!r})") from None
    jump = Endpoint(
        alias=last.host,
        hostname=last.host,
        port=last.port,
        username=last.user or endpoint.username,
        identity_files=endpoint.identity_files,
        known_hosts_file=endpoint.known_hosts_file,
        accept_new=endpoint.accept_new,
        proxy_jump=",".join(str(hop) for hop in earlier) or None,
        connect_timeout=endpoint.connect_timeout,
        options=parse_options([]),
    )
    outer = open_transport(settings, jump)
    try:
        return outer.open_channel(
            "direct-tcpip",
            (endpoint.hostname, endpoint.port),
            ("127.0.0.1", 0),
            timeout=endpoint.connect_timeout,
        )
    except Exception as exc:
        close_transport(outer)
        raise ConnectionRefused(
            endpoint.address, f"jump host {jump.address} could not reach the server: {exc}"
        ) from exc


def _prefer_algorithms(transport: paramiko.Transport, endpoint: Endpoint) -> None:
    security = transport.get_security_options()
    options = endpoint.options
    security.ciphers = _supported(options.ciphers or CIPHERS, tuple(security.ciphers), "Ciphers", endpoint)
    security.digests = _supported(options.macs or MACS, tuple(security.digests), "MACs", endpoint)
    if options.kex:
        security.kex = _supported(options.kex, tuple(security.kex), "KexAlgorithms", endpoint)
    key_types = options.host_key_types or _known_key_types(endpoint)
    if key_types:
        security.key_types = _supported(key_types, tuple(security.key_types), "HostKeyAlgorithms", endpoint)


def _supported(
    wanted: tuple[str, ...], available: tuple[str, ...], option: str, endpoint: Endpoint
) -> tuple[str, ...]:
    chosen = tuple(name for name in wanted if name in available)
    if not chosen:
        raise ConnectRefusedOption(endpoint, option, wanted, available)
    return chosen


class ConnectRefusedOption(ConnectionRefused):
    """An algorithm option names nothing paramiko supports."""

    def __init__(
        self, endpoint: Endpoint, option: str, wanted: tuple[str, ...], available: tuple[str, ...]
    ) -> None:
        super().__init__(
            endpoint.address,
            f"SSH option {option}={','.join(wanted)} names nothing portway-sftp supports; "
            f"supported: {','.join(available)}",
        )


def _known_key_types(endpoint: Endpoint) -> tuple[str, ...]:
    """Host key types known_hosts holds for this server, so negotiation picks one we can check."""
    keys = _load_known_hosts(endpoint)
    entry = keys.lookup(endpoint.known_hosts_name) if keys is not None else None
    if not entry:
        return ()
    types: list[str] = []
    for key_type in entry:
        if key_type == "ssh-rsa":
            types.extend(["rsa-sha2-512", "rsa-sha2-256"])
        else:
            types.append(key_type)
    return tuple(types)


def _load_known_hosts(endpoint: Endpoint) -> paramiko.HostKeys | None:
    path = Path(endpoint.known_hosts_file)
    if not path.exists():
        return None
    return read_known_hosts(path, endpoint.address)


def check_host_key(transport: paramiko.Transport, endpoint: Endpoint) -> None:
    """Refuse an unknown key (unless accept-new) and always a changed one."""
    offered = transport.get_remote_server_key()
    fingerprint = fingerprint_of(offered)
    keys = _load_known_hosts(endpoint)
    entry = keys.lookup(endpoint.known_hosts_name) if keys is not None else None
    if entry:
        known = entry.get(offered.get_name())
        if known is not None and known.asbytes() == offered.asbytes():
            return
        raise HostKeyRejected(
            endpoint.address,
            f"HOST KEY MISMATCH: the server offered {offered.get_name()} {fingerprint}, which differs "
            f"from the key for {endpoint.known_hosts_name} in {endpoint.known_hosts_file}. The server may "
            "have been reinstalled, or someone may be intercepting the connection; check with its admin "
            f"before removing the old line (ssh-keygen -R '{endpoint.known_hosts_name}' -f "
            f"{endpoint.known_hosts_file})",
        )
    if not endpoint.accept_new:
        raise HostKeyRejected(
            endpoint.address,
            f"the host key of {endpoint.known_hosts_name} ({offered.get_name()} {fingerprint}) is not in "
            f"{endpoint.known_hosts_file}; add it (ssh-keyscan -p {endpoint.port} {endpoint.hostname} >> "
            f"{endpoint.known_hosts_file}) after checking the fingerprint, or set host_key_policy to "
            "accept-new",
        )
    path = Path(endpoint.known_hosts_file)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = f"{endpoint.known_hosts_name} {offered.get_name()} {offered.get_base64()}\n"
    with path.open("a", encoding="ascii") as known_hosts:
        known_hosts.write(line)
    log.warning(
        "sftp_host_key_added", host=endpoint.known_hosts_name, fingerprint=fingerprint, file=str(path)
    )


def fingerprint_of(key: paramiko.PKey) -> str:
    """``SHA256:...`` as ``ssh-keygen -l`` prints it."""
    import base64
    import hashlib

    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def authenticate(transport: paramiko.Transport, settings: SftpSettings, endpoint: Endpoint) -> None:
    """Try the keys, then the password; explain what the server accepts when all fail."""
    import paramiko

    tried: list[str] = []
    allowed: list[str] = []
    keys = load_keys(settings, endpoint) if endpoint.options.pubkey_auth else []
    for label, key in keys:
        try:
            transport.auth_publickey(endpoint.username, key)
            return
        except paramiko.BadAuthenticationType as exc:
            allowed = list(exc.allowed_types)
            break
        except paramiko.AuthenticationException:
            tried.append(f"key {label}")
    password = settings.password.get_secret_value() if settings.password else None
    if password is not None and endpoint.options.password_auth:
        try:
            transport.auth_password(endpoint.username, password)
            return
        except paramiko.BadAuthenticationType as exc:
            allowed = list(exc.allowed_types)
        except paramiko.AuthenticationException:
            tried.append("password")
    if not keys and password is None:
        raise AuthenticationFailed(
            endpoint.address, f"no password or private key is configured for user {endpoint.username!r}"
        )
    accepts = f"; the server accepts: {', '.join(allowed)}" if allowed else ""
    raise AuthenticationFailed(
        endpoint.address,
        f"authentication failed for user {endpoint.username!r} "
        f"(tried {', '.join(tried) or 'nothing it accepts'}){accepts}",
    )


def load_keys(settings: SftpSettings, endpoint: Endpoint) -> list[tuple[str, paramiko.PKey]]:
    """Private keys to offer: the inline one, then key files; a missing default file is skipped."""
    import paramiko

    passphrase = settings.passphrase.get_secret_value() if settings.passphrase else None
    found: list[tuple[str, paramiko.PKey]] = []
    if settings.private_key is not None:
        text = settings.private_key.get_secret_value()
        found.append(("(inline)", _parse_inline(text, passphrase, endpoint)))
    for path in endpoint.identity_files:
        if not os.path.exists(path):
            if settings.private_key_file and Path(settings.private_key_file).expanduser() == Path(path):
                raise AuthenticationFailed(path, "private_key_file does not exist; fix the path")
            continue
        try:
            # from_path hands the passphrase to cryptography, which wants bytes.
            secret = passphrase.encode() if passphrase is not None else None
            found.append((path, paramiko.PKey.from_path(path, secret)))  # type: ignore[arg-type]
        except paramiko.PasswordRequiredException as exc:
            raise AuthenticationFailed(path, "the private key is encrypted; set passphrase") from exc
        except TypeError as exc:  # cryptography's way of saying a passphrase is needed
            if passphrase is None and "password" in str(exc).lower():
                raise AuthenticationFailed(path, "the private key is encrypted; set passphrase") from exc
            raise AuthenticationFailed(path, _key_problem(exc, passphrase)) from exc
        except (paramiko.SSHException, ValueError) as exc:
            raise AuthenticationFailed(path, _key_problem(exc, passphrase)) from exc
        except OSError as exc:
            raise AuthenticationFailed(path, f"cannot read the private key: {exc.strerror}") from exc
    return found


def _parse_inline(text: str, passphrase: str | None, endpoint: Endpoint) -> paramiko.PKey:
    import paramiko

    problem = "not a private key in OpenSSH or PEM format"
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            key: paramiko.PKey = kind.from_private_key(io.StringIO(text), passphrase)
            return key
        except paramiko.PasswordRequiredException as exc:
            raise AuthenticationFailed(
                "private_key", "the inline private key is encrypted; set passphrase"
            ) from exc
        except (paramiko.SSHException, ValueError) as exc:
            problem = _key_problem(exc, passphrase)
    raise AuthenticationFailed("private_key", problem)


def _key_problem(exc: BaseException, passphrase: str | None) -> str:
    if passphrase is not None:
        return f"the passphrase is wrong for this private key, or the key is damaged ({exc})"
    return f"cannot load the private key: {exc}"


def _negotiation_error(endpoint: Endpoint, exc: BaseException) -> Exception:
    text = str(exc)
    if "timeout" in text.lower() or isinstance(exc, TimeoutError | socket.timeout):
        return ConnectTimedOut(
            endpoint.address, f"the SSH handshake got no answer within {endpoint.connect_timeout:g} s"
        )
    if "Incompatible" in text or "no acceptable" in text.lower():
        return ConnectionRefused(endpoint.address, f"no common algorithm with the server: {text}")
    return ConnectionRefused(endpoint.address, f"SSH handshake failed: {text or type(exc).__name__}")


class StructlogHandler(logging.Handler):
    """Forwards paramiko's stdlib log records for one connection to structlog.

    At info level: the connection asked for its protocol log (``log_level =
    "debug"``), so it shows at the server's default ``[log] level`` too.
    """

    def __init__(self, connection: str) -> None:
        super().__init__(logging.DEBUG)
        self.log = structlog.get_logger("portway.sftp.protocol").bind(connection=connection)

    def emit(self, record: logging.LogRecord) -> None:
        self.log.info("ssh", source=record.name, message=record.getMessage())
