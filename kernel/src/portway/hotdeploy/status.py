"""The deploy status as JSON-able data: what ``portway deploy status|list`` and the admin API show."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from portway.hotdeploy.ledger import Ledger
from portway.registry import Registry


def describe(
    registry: Registry,
    ledger: Ledger,
    *,
    dirs: list[Path],
    watching: bool,
    abandoned_imports: int,
    last_boot: dict[str, Any],
    last_batch: dict[str, Any],
) -> dict[str, Any]:
    """Deployed services, failed files, helper modules and the last boot/batch."""
    files = dict(ledger.files)
    services = []
    for deployed in registry.all():
        state = files.get(deployed.source)
        services.append(
            {
                "name": deployed.name,
                "source": deployed.source,
                "version": deployed.version,
                "deployed_at": iso(deployed.deployed_at),
                "async": deployed.is_async,
                # live version differs from the file's: someone rolled back
                "rolled_back": state is not None and state.version != deployed.version,
            }
        )
    users: dict[str, list[str]] = {}
    for state in files.values():
        for helper in state.helpers:
            users.setdefault(helper, []).append(state.path)
    return {
        "dirs": [str(d) for d in dirs],
        "watching": watching,
        "services": services,
        "failures": [
            {"path": f.path, "line": f.line, "error": f.error, "at": iso(f.at)}
            for f in sorted(ledger.failures.values(), key=lambda f: f.path)
        ],
        "helpers": [{"path": p, "used_by": sorted(u)} for p, u in sorted(users.items())],
        "abandoned_imports": abandoned_imports,
        "boot": {**last_boot, "at": iso(last_boot["at"])} if last_boot else None,
        "last_batch": last_batch or None,
    }


def iso(timestamp: float) -> str:
    """A UTC timestamp to the millisecond, as the API shows times."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
