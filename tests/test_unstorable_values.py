"""A value the database refuses that no edge check caught still answers 422, not 500.

The edges (hub.input_guard, the schemas' bounds) refuse what they know; this
is the net under them, for a plugin's endpoint or a field that forgot its
bound. Only PostgreSQL refuses values (SQLite keeps any text), so it runs there.
"""

from __future__ import annotations

import pytest
from flask import Blueprint
from flask import g
from flask import request

from hub import current_hub
from hub import hookimpl
from hub.models import Member


class CarelessEndpoint:
    """A test plugin whose endpoint stores the raw body as a member's name, unchecked."""

    __name__ = "careless-endpoint"

    @hookimpl
    def register_blueprints(self):
        bp = Blueprint("careless", __name__)

        @bp.post("/api/v1/test-careless")
        def careless():
            with current_hub().db.transaction() as session:
                name = request.get_data(as_text=True)
                session.add(Member(merchant_id=g.merchant_id, code="CARELESS", name=name))
                session.flush()
            return {"stored": True}, 201

        return [bp]


@pytest.fixture
def hub_plugins():
    return [CarelessEndpoint()]


def test_a_nul_the_database_refuses_answers_422_unstorable_value(api, hub):
    if hub.db.is_sqlite:
        pytest.skip("SQLite keeps NUL in text; only PostgreSQL refuses it")
    response = api.post(
        "/api/v1/test-careless", data="Lan\x00", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["error"]["code"] == "unstorable_value"
    assert set(response.json["error"]) == {"code", "message", "details"}


def test_the_same_endpoint_stores_ordinary_text(api):
    response = api.post("/api/v1/test-careless", data="Lan", headers={"Content-Type": "text/plain"})
    assert response.status_code == 201
