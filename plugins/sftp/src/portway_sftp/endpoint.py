"""Where and as whom to connect: settings, ``ssh_options`` and the ssh config file merged.

Order of precedence, as in OpenSSH: the ``ssh_options`` (``-o``) first, then
the connection's own fields, then the ssh config file's ``Host`` block, then
defaults.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portway_sftp.config_files import read_ssh_config
from portway_sftp.failures import HostNotFound
from portway_sftp.options import SshOptions, parse_options
from portway_sftp.settings import SftpSettings


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
