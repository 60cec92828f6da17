"""The API reference's helpers: safe Markdown, examples made from schemas."""

from __future__ import annotations

import pytest

from hub.api_reference import example_of
from hub.api_reference import markdown
from hub.api_reference import reference

pytestmark = pytest.mark.db_agnostic


def test_markdown_renders_code_bold_and_links_and_escapes_everything_else():
    html = markdown("Use ``Idempotency-Key`` or `x`, **once**; see [docs](/api/v1/docs).\n\n<b>")
    assert html == (
        "<p>Use <code>Idempotency-Key</code> or <code>x</code>, <strong>once</strong>; "
        'see <a href="/api/v1/docs">docs</a>.</p><p>&lt;b&gt;</p>'
    )


def test_markdown_links_only_to_the_hub_or_over_https():
    assert markdown("[x](http://evil.example/)") == "<p>x</p>"
    assert 'href="https://hub.example.com/"' in markdown("[x](https://hub.example.com/)")


SPEC = {
    "components": {
        "schemas": {
            "Points": {"type": "object", "properties": {"available": {"type": "integer"}}},
            "Member": {
                "type": "object",
                "properties": {
                    "phone": {"type": "string"},
                    "born": {"type": "string", "format": "date"},
                    "tier": {"type": "string", "enum": ["gold", "silver"]},
                    "points": {"$ref": "#/components/schemas/Points"},
                    "tags": {"type": "array", "items": {"type": "string", "example": "vip"}},
                },
            },
        }
    }
}


def test_an_example_is_made_from_the_schema_and_its_references():
    assert example_of(SPEC, {"$ref": "#/components/schemas/Member"}) == {
        "phone": "+84912345678",
        "born": "1992-03-12",
        "tier": "gold",
        "points": {"available": 1},
        "tags": ["vip"],
    }


def test_operations_are_grouped_by_tag_in_the_documents_order():
    spec = {
        **SPEC,
        "tags": [{"name": "members", "description": "Members"}, {"name": "member_tiers"}],
        "paths": {
            "/m/{id}/tier": {"get": {"tags": ["member_tiers"], "summary": "Tier", "responses": {}}},
            "/m": {"post": {"tags": ["members"], "summary": "Add", "responses": {}}},
        },
    }
    groups = reference(spec, "https://hub.example.com/")
    assert [(g.title, [o.path for o in g.operations]) for g in groups] == [
        ("Members", ["/m"]),
        ("Member tiers", ["/m/{id}/tier"]),
    ]
    (tier,) = groups[1].operations
    assert tier.curl.startswith("curl -X GET 'https://hub.example.com/m/<id>/tier'")
