"""The test processes share compiled URL builders between apps (tests/url_builders.py)."""

import pytest
import url_builders
from werkzeug.routing import Map
from werkzeug.routing import Rule

pytestmark = pytest.mark.db_agnostic


def _adapter(*rules: Rule):
    return Map(list(rules)).bind("shop.example", "/")


def test_rules_of_the_same_text_in_two_maps_share_one_builder_and_build_alike():
    url_builders.install()
    first = Rule("/members/<int:member_id>/points", endpoint="points")
    second = Rule("/members/<int:member_id>/points", endpoint="points")
    _adapter(first)
    _adapter(second)
    assert first._build.__func__ is second._build.__func__
    built = _adapter(Rule("/members/<int:member_id>/points", endpoint="points")).build(
        "points", {"member_id": 7, "page": 2}
    )
    assert built == "/members/7/points?page=2"


def test_rules_that_differ_get_builders_of_their_own():
    url_builders.install()
    adapter = _adapter(
        Rule("/a/<name>", endpoint="a"),
        Rule("/b/<name>", endpoint="b"),
        Rule("/c/<path:name>", endpoint="c"),
        Rule("/d/", defaults={"page": 1}, endpoint="d"),
        Rule("/d/<int:page>", endpoint="d"),
    )
    assert adapter.build("a", {"name": "Hoa Mai"}) == "/a/Hoa%20Mai"
    assert adapter.build("b", {"name": "x"}) == "/b/x"
    assert adapter.build("c", {"name": "x/y"}) == "/c/x/y"
    assert adapter.build("d", {"page": 1}) == "/d/"
    assert adapter.build("d", {"page": 3}) == "/d/3"
