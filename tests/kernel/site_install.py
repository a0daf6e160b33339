"""Make a package importable with its entry points, as `pip install` would, without pip or a network.

A ``NAME-VERSION.dist-info`` folder (METADATA, entry_points.txt) in a
folder on ``sys.path`` is all ``importlib.metadata`` (and so portway's
plugin discovery) looks for.
"""

from __future__ import annotations

import re
from pathlib import Path


def dist_info(site: Path, name: str, version: str, entry_points: dict[str, dict[str, str]]) -> Path:
    """Write ``site/NAME-VERSION.dist-info`` for distribution ``name``; return the folder.

    ``entry_points`` is ``{group: {name: "module:attr"}}``, as a pyproject's table.
    """
    for old in site.glob(f"{_normal(name)}-*.dist-info"):
        for file in old.iterdir():
            file.unlink()
        old.rmdir()
    folder = site / f"{_normal(name)}-{version}.dist-info"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, entries in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in entries.items()]
        lines.append("")
    (folder / "entry_points.txt").write_text("\n".join(lines))
    return folder


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()
