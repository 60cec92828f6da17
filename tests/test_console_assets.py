"""The vendored browser files are the npm packages' files at the versions package.json names."""

import hashlib
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.db_agnostic

ROOT = Path(__file__).parent.parent
RECORD = json.loads((ROOT / "hub/console/static/vendor/VENDORED.json").read_text())


def test_vendored_files_match_their_recorded_hashes_and_ship_their_licences():
    for package, entry in RECORD.items():
        for path, digest in entry["files"].items():
            assert hashlib.sha256((ROOT / path).read_bytes()).hexdigest() == digest, path
        assert any(p.endswith("LICENSE") for p in entry["files"]), package


def test_vendored_versions_are_the_ones_package_json_pins():
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    assert {p: e["version"] for p, e in RECORD.items()} == pinned
