"""The settings of one SFTP connection, as users configure it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from portway.settings_marks import FileSetting, SecretAudience
from portway_sftp.options import option_files, parse_options

# Who receives the password: the host and user, and everything that can redirect or
# weaken the check of where the connection goes (ssh config, -o options, host keys).
Audience = SecretAudience()


class SftpSettings(BaseModel):
    """How to reach and log in to one SFTP server, and how to transfer files."""

    model_config = {"extra": "forbid", "frozen": True}

    host: Annotated[str, Audience] = Field(
        description="Server host name or IP address; may be a Host alias from the ssh config file",
        min_length=1,
    )
    port: Annotated[int | None, Audience] = Field(
        None, ge=1, le=65535, description="TCP port; empty: the ssh config file's Port, else 22"
    )
    username: Annotated[str | None, Audience] = Field(
        None, description="User to log in as; empty: the ssh config file's User, else the local user"
    )
    password: SecretStr | None = Field(None, description="Password, when the server takes password login")
    private_key_file: Annotated[str | None, FileSetting()] = Field(
        None, description="Path to a private key file (OpenSSH or PEM format); ~ is expanded"
    )
    private_key: SecretStr | None = Field(
        None,
        max_length=16384,
        description="A private key pasted inline (the text of an OpenSSH or PEM key file)",
    )
    passphrase: SecretStr | None = Field(None, description="Passphrase of an encrypted private key")
    known_hosts_file: Annotated[str, FileSetting(), Audience] = Field(
        "~/.ssh/known_hosts", description="known_hosts file holding the server's host key"
    )
    host_key_policy: Annotated[Literal["strict", "accept-new"], Audience] = Field(
        "strict",
        description=(
            "strict: the host key must be in known_hosts already; accept-new: an unknown host's key is "
            "added to known_hosts on first connect. A changed key is always refused."
        ),
    )
    ssh_config_file: Annotated[str | None, FileSetting(), Audience] = Field(
        None,
        description="OpenSSH client config file read for host: HostName, User, Port, IdentityFile, ProxyJump",
    )
    ssh_options: Annotated[list[str], FileSetting(paths=option_files), Audience] = Field(
        [],  # pydantic copies it per instance
        description=(
            "Extra options as in `sftp -o Name=value` (for example ServerAliveInterval=30, "
            "Ciphers=aes128-gcm@openssh.com). Options that cannot be honoured are refused by name."
        ),
    )
    preserve_metadata: bool = Field(
        False, description="Keep modification time and permissions on upload and download (sftp -p)"
    )
    log_level: Literal["info", "debug"] = Field(
        "info", description="debug: log every SFTP request and the SSH negotiation through structlog"
    )
    bandwidth_limit: int = Field(
        0, ge=0, description="Most Kbit/s per connection for file transfers (sftp -l); 0: no limit"
    )
    buffer_size: int = Field(
        262144,
        ge=4096,
        le=4 * 1024 * 1024,
        description="Bytes per read or write request in flight; larger means fewer round trips",
    )
    requests_in_flight: int = Field(
        16, ge=1, le=1024, description="Most read or write requests outstanding at once per file transfer"
    )
    transfer_workers: int = Field(
        4,
        ge=1,
        le=64,
        description="SFTP channels used at once for directory uploads and downloads (many small files)",
    )
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to wait for TCP connect, SSH and login")
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for any one SFTP request to be answered")
    default_directory: str | None = Field(
        None, description="Remote directory relative paths start from; empty: the login directory"
    )
    ping_command: str = Field("ls .", min_length=1, description="Batch command run by ping")

    @field_validator("ssh_options")
    @classmethod
    def _check_options(cls, value: list[str]) -> list[str]:
        parse_options(value)  # raises ValueError naming the option
        return value

    @model_validator(mode="after")
    def _check_key(self) -> SftpSettings:
        if self.private_key is not None and self.private_key_file:
            raise ValueError("give private_key_file or private_key (inline), not both")
        return self
