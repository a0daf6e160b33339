"""Suite-wide settings. Fixtures for services come from portway.testing (a pytest plugin)."""

from __future__ import annotations

import os

# Plugin CLI listings and stevedore caches go to a throwaway place, not the user's home.
os.environ.setdefault("XDG_CACHE_HOME", "/tmp/portway-test-cache")
