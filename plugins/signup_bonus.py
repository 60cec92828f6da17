"""Sign-up bonus: fixed points once per member, when the member is created.

Program settings, section ``rules.signup``::

    {"points": 100, "skip_sources": ["import"]}

Reacts to ``member.created`` (as a job); credits once per member, ledger
key ``signup:<member id>``, rule ``signup``, under the program in force when
the member was created (its hold and expiry apply). Members created by a
source in ``skip_sources`` (default: imports, which bring their opening
balance instead) get nothing.
"""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub import ProgramRule
from hub import ProgramsInForce
from hub import grant_points
from hub import handles_events
from hub import hookimpl
from hub import program_for
from hub import wants_events

RULE = "signup"


class SignupSchema(Schema):
    enabled = fields.Bool(load_default=True)
    points = fields.Int(required=True, validate=validate.Range(min=1, max=1_000_000))
    skip_sources = fields.List(
        fields.Str(validate=validate.Length(min=1, max=40)), load_default=lambda: ["import"]
    )


@hookimpl
def register_program_rules(hub):
    return [
        ProgramRule(
            name=RULE,
            title="Sign-up bonus",
            schema=SignupSchema,
            description="Fixed points once, when a member is created",
        )
    ]


def _bonus(program, source):
    """The program's sign-up bonus settings for a member created by ``source``, or None."""
    settings = program.rule(RULE)
    if settings is None or source in settings["skip_sources"]:
        return None
    return settings


def _with_a_bonus(hub, events):
    """The members created while their merchant's program gave a sign-up bonus to their
    source: the others cost no job. Each merchant's program versions are read once."""
    chosen = []
    with hub.db.session() as session:
        programs = {}
        for event in events:
            if event.merchant_id not in programs:
                programs[event.merchant_id] = ProgramsInForce(hub, session, event.merchant_id)
            program = programs[event.merchant_id].at(event.occurred_at)
            if _bonus(program, event.data.get("source")) is not None:
                chosen.append(event.id)
    return chosen


@hookimpl
@handles_events("member.created")
@wants_events(_with_a_bonus)
def handle_event(hub, event):
    if event.type != "member.created":
        return
    member_id = event.data["member_id"]
    with hub.db.transaction() as session:
        program = program_for(hub, session, event.merchant_id, event.occurred_at)
        settings = _bonus(program, event.data.get("source"))
        if settings is None:
            return
        grant_points(
            hub, session, event.merchant_id, member_id, settings["points"], rule=RULE,
            key=f"signup:{member_id}", note="sign-up bonus", at=event.occurred_at,
        )  # fmt: skip
