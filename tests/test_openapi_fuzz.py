"""Every operation in the served OpenAPI document answers as the document says, whatever is sent.

schemathesis generates requests from ``/api/v1/openapi.json``, ones that fit the
document and ones that do not, and checks each answer: never a 5xx, a status
the operation documents, and a body that matches the documented schema. The
run is deterministic; ``HUB_FUZZ_SEED`` picks another seed (or replays the one
a failure printed) and ``HUB_FUZZ_EXAMPLES`` the cases per operation and mode.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import seed
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

SEED = int(os.environ.get("HUB_FUZZ_SEED", "16"))
EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _fuzz(operation, mode: GenerationMode, headers: dict[str, str]) -> None:
    """Send ``EXAMPLES`` generated requests to one operation; raise on the first failed check."""

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_every_operation_answers_as_the_document_says(app, api, member):
    print(f"schemathesis seed {SEED}: replay with HUB_FUZZ_SEED={SEED}")
    config = SchemathesisConfig.from_dict({"seed": SEED})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, api.merchant.headers)
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert operations >= 80
    assert not failures, f"seed {SEED}, {len(failures)} failures:\n\n" + "\n\n".join(failures)
