"""The server's host key against known_hosts: which key types to ask for, refuse, or accept new."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from portway_sftp.config_files import read_known_hosts
from portway_sftp.endpoint import Endpoint
from portway_sftp.failures import HostKeyRejected

if TYPE_CHECKING:
    import paramiko

log = structlog.get_logger("portway.sftp")


def known_key_types(endpoint: Endpoint) -> tuple[str, ...]:
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
