"""A trial deploy: compile and import files the way hot-deploy would, in a scratch folder, before publishing.

The files are written beside the helpers they may import (their folder's
files as published), deployed by a throwaway :class:`Deployer` with the
same import time limit and size limit, and every failure comes back with
the file's own relative path, line and error. Nothing of the trial stays
live: its registry is thrown away and its modules leave ``sys.modules``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from portway.errors import DeployError
from portway.hotdeploy.loader import module_name_for
from portway.registry import Registry


def trial_deploy(
    files: Mapping[str, bytes],
    siblings: Mapping[str, bytes],
    *,
    import_timeout_s: float,
    max_file_bytes: int,
) -> list[DeployError]:
    """Errors of deploying ``files`` (relative path -> bytes) next to ``siblings``; empty when all deploy."""
    from portway.hotdeploy.deployer import Deployer

    with tempfile.TemporaryDirectory(prefix="portway-trial-") as scratch:
        root = Path(scratch)
        for rel, content in {**siblings, **files}.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        deployer = Deployer(
            Registry(history=0), [root], import_timeout_s=import_timeout_s, max_file_bytes=max_file_bytes
        )
        paths = [str(root / rel) for rel in sorted(files)]
        try:
            deployer.deploy_paths(paths)
            failures = dict(deployer.failures)
        finally:
            deployer.worker.close()
            for path in [str(root / rel) for rel in {**siblings, **files}]:
                sys.modules.pop(module_name_for(path), None)
    prefix = str(root) + os.sep
    errors = []
    for path, failure in sorted(failures.items()):
        if path in paths:
            problem = failure.error.replace(prefix, "")
            errors.append(DeployError(path.removeprefix(prefix), failure.line, problem))
    return errors
