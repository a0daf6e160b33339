"""The console and TOTP docs point at screenshots that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("page", ["console.md", "totp.md"])
def test_every_image_the_docs_show_exists(page: str) -> None:
    text = (DOCS / page).read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images, f"docs/{page} shows no screenshot"
    missing = [i for i in images if not (DOCS / i).is_file()]
    assert not missing, f"docs/{page} refers to missing images: {missing}"
