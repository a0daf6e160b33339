"""``portway plugin new NAME``: a plugin package that installs and passes its own test as generated.

The files come from ``templates/`` (``string.Template``, ``$name`` and
friends), so what a new author gets is plain text to read and change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from portway.errors import ConfigError

NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")

# template file -> path in the new package ($package is the import package's name)
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "gitignore.tmpl": ".gitignore",
    "init.py.tmpl": "src/$package/__init__.py",
    "plugin.py.tmpl": "src/$package/plugin.py",
    "client.py.tmpl": "src/$package/client.py",
    "conftest.py.tmpl": "tests/conftest.py",
    "test_plugin.py.tmpl": "tests/test_${name}_plugin.py",
}


@dataclass(frozen=True)
class Names:
    """How one plugin NAME is spelled in each place."""

    name: str  # connection type and entry point: redis

    @property
    def package(self) -> str:  # import package: portway_redis
        return f"portway_{self.name}"

    @property
    def distribution(self) -> str:  # what pip installs: portway-redis
        return "portway-" + self.name.replace("_", "-")

    @property
    def title(self) -> str:  # a class name prefix: Redis
        return "".join(part.capitalize() for part in self.name.split("_"))


def new_plugin(name: str, parent: Path) -> Path:
    """Write the package ``portway-NAME`` into ``parent``; return its folder. Refuses to overwrite."""
    if not NAME.match(name):
        raise ConfigError(
            f"plugin name {name!r}",
            "use lowercase letters, digits and '_', starting with a letter (it becomes the connection "
            "type's name, as in self.out.NAME)",
        )
    names = Names(name)
    root = parent / names.distribution
    if root.exists():
        raise ConfigError(str(root), "exists already; pick another name or folder (--dir)")
    values = {
        "name": names.name,
        "package": names.package,
        "distribution": names.distribution,
        "title": names.title,
        "portway_version": _version(),
    }
    templates = resources.files("portway.scaffold") / "templates"
    for template, target in FILES.items():
        path = root / Template(target).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (templates / template).read_text(encoding="utf-8")
        path.write_text(Template(text).substitute(values), encoding="utf-8")
    return root


def _version() -> str:
    from importlib.metadata import version

    return version("portway")
