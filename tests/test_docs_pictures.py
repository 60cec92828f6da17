"""The pictures in the docs: every one linked is there, and each is a screenshot the tests take."""

from __future__ import annotations

import re
import runpy
import struct
from pathlib import Path

import pytest
from browser_support import WIDTHS

pytestmark = pytest.mark.db_agnostic

ROOT = Path(__file__).parent.parent
SCRIPT = runpy.run_path(str(ROOT / "scripts" / "docs-screenshots"))
IMAGE_LINK = re.compile(r"!\[[^\]]+\]\(([^)]+)\)")


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_every_picture_a_document_links_is_there():
    missing = [
        f"{page.name}: {link}"
        for page in (ROOT / "docs").rglob("*.md")
        for link in IMAGE_LINK.findall(page.read_text())
        if not link.startswith("https://") and not (page.parent / link).exists()
    ]
    assert missing == []


def test_the_console_guide_shows_each_step_in_both_languages_as_the_tests_took_it():
    linked = set(IMAGE_LINK.findall((ROOT / "docs" / "console.md").read_text()))
    expected = {
        f"images/console/{picture}-{lang}.png"
        for picture in SCRIPT["PICTURES"]
        for lang in SCRIPT["LANGUAGES"]
    }
    assert linked == expected
    for picture, (test_file, _taken) in SCRIPT["PICTURES"].items():
        assert (ROOT / test_file).exists(), (picture, test_file)
        for lang in SCRIPT["LANGUAGES"]:
            size = png_size(SCRIPT["DOCS"] / f"{picture}-{lang}.png")
            assert size in set(WIDTHS.values()), (picture, lang, size)
