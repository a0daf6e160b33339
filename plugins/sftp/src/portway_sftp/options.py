"""Extra SSH options written as in ``sftp -o Name=value``.

Only options we truly honour are accepted; any other is refused with its
name, so a setting never silently does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Option name -> what it does here (shown in errors and docs); matched case-insensitively.
SUPPORTED: dict[str, str] = {
    "HostName": "the real host to connect to",
    "Port": "TCP port",
    "User": "login user",
    "IdentityFile": "private key file (may be given several times)",
    "ConnectTimeout": "seconds to wait for the connection",
    "StrictHostKeyChecking": "yes or accept-new",
    "UserKnownHostsFile": "known_hosts file",
    "Ciphers": "comma-separated cipher list, in order of preference",
    "MACs": "comma-separated MAC list",
    "KexAlgorithms": "comma-separated key exchange list",
    "HostKeyAlgorithms": "comma-separated host key type list",
    "Compression": "yes or no",
    "ServerAliveInterval": "seconds between keepalive messages",
    "ProxyJump": "[user@]host[:port] to tunnel through",
    "BatchMode": "yes (connections never prompt)",
    "LogLevel": "DEBUG, DEBUG1-3 turn on protocol logs; others are accepted",
    "IdentitiesOnly": "yes or no (only the configured keys are ever offered)",
    "PasswordAuthentication": "yes or no",
    "PubkeyAuthentication": "yes or no",
}

_LOWER = {name.lower() for name in SUPPORTED}
_YES = {"yes", "true", "on"}
_NO = {"no", "false", "off"}


@dataclass(frozen=True)
class SshOptions:
    """The honoured options, parsed; ``None`` means not given."""

    hostname: str | None = None
    port: int | None = None
    user: str | None = None
    identity_files: tuple[str, ...] = ()
    connect_timeout: float | None = None
    accept_new: bool | None = None
    known_hosts_file: str | None = None
    ciphers: tuple[str, ...] = ()
    macs: tuple[str, ...] = ()
    kex: tuple[str, ...] = ()
    host_key_types: tuple[str, ...] = ()
    compression: bool | None = None
    keepalive_s: int | None = None
    proxy_jump: str | None = None
    debug: bool = False
    password_auth: bool = True
    pubkey_auth: bool = True
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JumpHop:
    """One ProxyJump host; an empty ``user`` means the target's user."""

    user: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.user}@{self.host}:{self.port}" if self.user else f"{self.host}:{self.port}"


def parse_jump(text: str) -> tuple[JumpHop, ...]:
    """ProxyJump hosts in the order they are visited: ``[ssh://][user@]host[:port]``, comma-separated."""
    hops = []
    for raw in text.split(","):
        hop = raw.strip().removeprefix("ssh://")
        user, _, address = hop.rpartition("@")
        host, _, port = address.partition(":")
        if not host or (port and not port.isdigit()):
            raise ValueError(f"ProxyJump hop {raw.strip()!r} must look like [user@]host[:port]")
        hops.append(JumpHop(user, host, int(port or 22)))
    return tuple(hops)


def parse_options(items: list[str]) -> SshOptions:
    """Parse ``Name=value`` (or ``Name value``) items; raise ValueError naming a bad one."""
    values: dict[str, object] = {}
    identities: list[str] = []
    raw: dict[str, str] = {}
    for item in items:
        name, value = _split(item)
        key = name.lower()
        if key not in _LOWER:
            known = ", ".join(SUPPORTED)
            raise ValueError(f"SSH option {name!r} cannot be honoured by portway-sftp; supported: {known}")
        raw[name] = value
        if key == "identityfile":
            identities.append(value)
        elif key in ("hostname", "user", "userknownhostsfile"):
            values[key] = value
        elif key == "proxyjump":
            if value.lower() != "none":
                parse_jump(value)  # a bad hop is refused with the settings, not at the first connect
            values[key] = value
        elif key in ("port", "serveraliveinterval"):
            values[key] = _integer(name, value)
        elif key == "connecttimeout":
            values[key] = float(_integer(name, value))
        elif key == "stricthostkeychecking":
            values[key] = _host_key_checking(name, value)
        elif key in ("ciphers", "macs", "kexalgorithms", "hostkeyalgorithms"):
            values[key] = _algorithms(name, value)
        elif key in ("compression", "identitiesonly", "passwordauthentication", "pubkeyauthentication"):
            values[key] = _boolean(name, value)
        elif key == "batchmode":
            if not _boolean(name, value):
                raise ValueError(f"SSH option {name}=no cannot be honoured: connections never prompt")
        elif key == "loglevel":
            values[key] = value.upper().startswith("DEBUG")
    return SshOptions(
        hostname=_str(values.get("hostname")),
        port=_int(values.get("port")),
        user=_str(values.get("user")),
        identity_files=tuple(identities),
        connect_timeout=_float(values.get("connecttimeout")),
        accept_new=_bool(values.get("stricthostkeychecking")),
        known_hosts_file=_str(values.get("userknownhostsfile")),
        ciphers=_tuple(values.get("ciphers")),
        macs=_tuple(values.get("macs")),
        kex=_tuple(values.get("kexalgorithms")),
        host_key_types=_tuple(values.get("hostkeyalgorithms")),
        compression=_bool(values.get("compression")),
        keepalive_s=_int(values.get("serveraliveinterval")),
        proxy_jump=_str(values.get("proxyjump")),
        debug=bool(values.get("loglevel", False)),
        password_auth=values.get("passwordauthentication", True) is not False,
        pubkey_auth=values.get("pubkeyauthentication", True) is not False,
        raw=raw,
    )


def _split(item: str) -> tuple[str, str]:
    text = item.strip().removeprefix("-o").strip()
    if "=" in text:
        name, value = text.split("=", 1)
    else:
        name, _, value = text.partition(" ")
    name, value = name.strip(), value.strip()
    if not name or not value:
        raise ValueError(f"SSH option {item!r} must look like Name=value (as in sftp -o)")
    return name, value


def _integer(name: str, value: str) -> int:
    if not value.isdigit():
        raise ValueError(f"SSH option {name}={value!r} needs a whole number")
    return int(value)


def _boolean(name: str, value: str) -> bool:
    if value.lower() in _YES:
        return True
    if value.lower() in _NO:
        return False
    raise ValueError(f"SSH option {name}={value!r} needs yes or no")


def _host_key_checking(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _YES:
        return False
    if lowered == "accept-new":
        return True
    raise ValueError(
        f"SSH option {name}={value!r} cannot be honoured: portway never connects to a host whose key "
        "it cannot check; use yes or accept-new"
    )


def _algorithms(name: str, value: str) -> tuple[str, ...]:
    if value[:1] in "+-^":
        raise ValueError(
            f"SSH option {name}={value!r}: the {value[0]!r} prefix is not supported; give the full list"
        )
    names = tuple(part.strip() for part in value.split(",") if part.strip())
    if not names:
        raise ValueError(f"SSH option {name} needs at least one algorithm name")
    return names


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    return value if isinstance(value, float) else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _tuple(value: object) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else ()


def option_files(items: object) -> list[str]:
    """The files named by ``IdentityFile`` and ``UserKnownHostsFile`` options, for the kernel's file rule."""
    if not isinstance(items, (list, tuple)):
        return []
    files: list[str] = []
    for item in items:
        try:
            name, value = _split(str(item))
        except ValueError:
            continue  # refused with the settings, by name
        if name.lower() == "identityfile":
            files.append(value)
        elif name.lower() == "userknownhostsfile":
            files += value.split()
    return files
