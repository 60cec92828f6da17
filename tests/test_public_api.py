"""The public API: no name disappears without a deprecation, and every one is documented."""

from __future__ import annotations

import pathlib
import warnings

import pytest

import hub
import hub.testing

pytestmark = pytest.mark.db_agnostic

ROOT = pathlib.Path(__file__).parent.parent
LIST = pathlib.Path(__file__).parent / "public_api_names.txt"


def published() -> list[str]:
    lines = (line.strip() for line in LIST.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def public_now() -> set[str]:
    return {*hub.__all__, *(f"hub.testing.{name}" for name in hub.testing.__all__)}


def test_every_published_name_is_public_or_deprecated():
    gone = [
        name for name in published() if name not in public_now() and name not in hub._DEPRECATED
    ]
    assert not gone, (
        f"{gone} left the public API without a deprecation: put them back, or list them in "
        "hub._DEPRECATED with their replacement and the version that removes them"
    )


def test_every_public_name_is_in_the_committed_list():
    new = sorted(public_now() - set(published()))
    assert not new, f"add {new} to tests/public_api_names.txt (and to docs/public-api.md)"


def test_every_public_name_resolves_and_is_documented():
    page = (ROOT / "docs" / "public-api.md").read_text()
    for name in hub.__all__:
        assert hasattr(hub, name), name
        assert f"`{name}`" in page, f"docs/public-api.md does not name {name}"
    for name in hub.testing.__all__:
        assert hasattr(hub.testing, name), name
        assert f"`{name}`" in page, f"docs/public-api.md does not name hub.testing.{name}"


def test_a_deprecated_name_still_works_with_a_warning_naming_its_replacement(monkeypatch):
    monkeypatch.setitem(hub._DEPRECATED, "award_points", ("grant_points", "0.3"))
    with pytest.warns(DeprecationWarning, match=r"hub.award_points .* 0.3; use hub.grant_points"):
        assert hub.award_points is hub.grant_points


def test_an_unknown_name_is_an_attribute_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="no_such_name"):
            hub.no_such_name  # noqa: B018
