"""Reading the local files an SFTP connection names: its ssh config file and known_hosts.

Errors name the file and the line number, never the line itself: a file
setting may by mistake name a file holding secrets, and its text must not
reach an error message or the log. paramiko's own loaders do both (its
"Unparsable line ..." error, its INFO log of known_hosts lines it skips), so
these read the files themselves and hand paramiko only lines it can take.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from portway_sftp.failures import HostKeyRejected, HostNotFound

if TYPE_CHECKING:
    import paramiko

_FIELDS = re.compile(" |\t")


def read_ssh_config(path: Path) -> paramiko.SSHConfig:
    """The parsed ssh config file; a bad line is reported by number."""
    import paramiko

    text = _text(path, "ssh_config_file", HostNotFound)
    try:
        return paramiko.SSHConfig.from_text(text)
    except paramiko.ConfigParseError:
        line = _first_bad_line(text)
        raise HostNotFound(
            str(path),
            f"ssh_config_file line {line} is not OpenSSH client config (Keyword value); fix or remove it",
        ) from None


def read_known_hosts(path: Path, address: str) -> paramiko.HostKeys:
    """The host keys in a known_hosts file; lines that hold no host key are skipped, as OpenSSH does."""
    import paramiko
    from paramiko.hostkeys import HostKeyEntry

    keys = paramiko.HostKeys()
    for number, raw in enumerate(_text(path, "known_hosts file", HostKeyRejected, address).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or len(_FIELDS.split(line)) < 3:
            continue
        try:
            entry = HostKeyEntry.from_line(line, number)
        except paramiko.SSHException:
            continue
        if entry is not None and entry.key is not None:
            for name in entry.hostnames:
                keys.add(name, entry.key.get_name(), entry.key)
    return keys


def _text(path: Path, what: str, error: type[Exception], address: str | None = None) -> str:
    """The file's text; unreadable or binary files are refused without showing any of it."""
    where = address or str(path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(where, f"{what} {path} is not a text file") from None
    except OSError as exc:
        raise error(where, f"cannot read {what} {path}: {exc.strerror}") from None


def _first_bad_line(text: str) -> int:
    """The number of the first line paramiko cannot parse (the shortest failing prefix), by bisection."""
    import paramiko

    lines = text.splitlines()
    low, high = 1, len(lines)
    while low < high:
        middle = (low + high) // 2
        try:
            paramiko.SSHConfig.from_text("\n".join(lines[:middle]))
        except paramiko.ConfigParseError:
            high = middle
        else:
            low = middle + 1
    return low
