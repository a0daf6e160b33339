"""Settings of one FTP or FTPS connection, as users configure them."""

from __future__ import annotations

import codecs
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from portway.settings_marks import FileSetting, SecretAudience

MIB = 1024 * 1024
# Who receives the password: host, port and user, and what protects it on the way
# (TLS on, the server's certificate checked against the right CAs for the right name).
Audience = SecretAudience()


class TlsMode(StrEnum):
    """How the connection uses TLS."""

    NONE = "none"
    """Plain FTP: passwords and data travel in clear text."""
    EXPLICIT = "explicit"
    """Connect in plain text, then ``AUTH TLS`` before logging in (port 21 style)."""
    IMPLICIT = "implicit"
    """TLS from the first byte (port 990 style)."""


class FtpSettings(BaseModel):
    """An FTP or FTPS server to talk to."""

    model_config = {"extra": "forbid", "frozen": True}

    host: Annotated[str, Audience] = Field(min_length=1, description="Server host name or IP address")
    port: Annotated[int | None, Audience] = Field(
        None, ge=1, le=65535, description="TCP port; empty means 21, or 990 for implicit TLS"
    )
    username: Annotated[str, Audience] = Field("anonymous", description="User to log in as")
    password: SecretStr | None = Field(None, description="Password of the user")
    tls: Annotated[TlsMode, Audience] = Field(
        TlsMode.NONE, description="none, explicit (AUTH TLS on the normal port) or implicit (port 990)"
    )
    ca_file: Annotated[str, FileSetting(), Audience] = Field(
        "", description="PEM file of the CA(s) to trust for the server certificate; empty: system store"
    )
    cert_file: Annotated[str, FileSetting()] = Field(
        "", description="PEM client certificate, when the server asks for one"
    )
    key_file: Annotated[str, FileSetting()] = Field(
        "", description="PEM private key of the client certificate (if not in cert_file)"
    )
    key_password: SecretStr | None = Field(None, description="Password of an encrypted key_file")
    verify_hostname: Annotated[bool, Audience] = Field(
        True, description="Check the certificate names the host; turning it off is logged as a warning"
    )
    passive: bool = Field(True, description="Passive data connections (PASV/EPSV); false for active (PORT)")
    encoding: str = Field("utf-8", description="Encoding of file names on the wire")
    latin1_fallback: bool = Field(
        False,
        description="Use latin-1 for names if the server lacks UTF8 in FEAT and refuses OPTS UTF8 ON",
    )
    connect_timeout_s: float = Field(30, gt=0, description="Longest wait to connect and log in")
    timeout_s: float = Field(60, gt=0, description="Longest wait for any reply or data block")
    block_size: int = Field(MIB, ge=4096, le=64 * MIB, description="Bytes per read/write in transfers")
    directory: str = Field("", description="Directory to change to after login; relative paths start here")
    ping_command: str = Field("NOOP", min_length=1, description="FTP command a ping sends, e.g. NOOP or PWD")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            return codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; use e.g. utf-8 or latin-1") from None

    @field_validator("ping_command")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("must be one line, e.g. NOOP")
        return value.strip()

    @model_validator(mode="after")
    def _tls_files(self) -> FtpSettings:
        if self.tls is TlsMode.NONE and (self.ca_file or self.cert_file or self.key_file):
            raise ValueError("ca_file, cert_file and key_file need tls set to explicit or implicit")
        if self.key_file and not self.cert_file:
            raise ValueError("key_file needs cert_file too")
        return self

    @property
    def effective_port(self) -> int:
        """The port to connect to: the one given, else 990 for implicit TLS, else 21."""
        if self.port is not None:
            return self.port
        return 990 if self.tls is TlsMode.IMPLICIT else 21

    @property
    def address(self) -> str:
        """``ftp://host:port`` or ``ftps://host:port``, for messages."""
        scheme = "ftp" if self.tls is TlsMode.NONE else "ftps"
        return f"{scheme}://{self.host}:{self.effective_port}"
