"""Open a tuned, verified and authenticated SSH transport for one connection.

Where to connect comes from :mod:`portway_sftp.endpoint`, the host key check
from :mod:`portway_sftp.hostkeys`, the login from :mod:`portway_sftp.login`.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from portway_sftp.endpoint import Endpoint
from portway_sftp.failures import ConnectionRefused, ConnectTimedOut, HostNotFound
from portway_sftp.hostkeys import check_host_key, known_key_types
from portway_sftp.login import authenticate
from portway_sftp.options import parse_jump, parse_options

if TYPE_CHECKING:
    import paramiko

    from portway_sftp.settings import SftpSettings

# Fastest first on x86-64 with AES-NI; all are supported by paramiko >= 3.3.
CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr", "aes192-ctr")
MACS = ("hmac-sha2-256-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-512")
# A channel window of a few MiB keeps a LAN link busy; far larger ones only queue
# data that paramiko then has to handle in one go. Packets of 32 KiB measured
# faster than larger ones: paramiko reassembles big packets piece by piece.
WINDOW_SIZE = 4 * 1024 * 1024
MAX_PACKET_SIZE = 32 * 1024


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
    key_types = options.host_key_types or known_key_types(endpoint)
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


def _negotiation_error(endpoint: Endpoint, exc: BaseException) -> Exception:
    text = str(exc)
    if "timeout" in text.lower() or isinstance(exc, TimeoutError | socket.timeout):
        return ConnectTimedOut(
            endpoint.address, f"the SSH handshake got no answer within {endpoint.connect_timeout:g} s"
        )
    if "Incompatible" in text or "no acceptable" in text.lower():
        return ConnectionRefused(endpoint.address, f"no common algorithm with the server: {text}")
    return ConnectionRefused(endpoint.address, f"SSH handshake failed: {text or type(exc).__name__}")
