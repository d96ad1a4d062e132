"""Schema-based fuzzing: schemathesis generates requests from the OpenAPI document and sends them
to the real application; no answer may be a 5xx, and every answer must match the document."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from console.api.models import ApiKey
from media_jobs.callbacks import pull as pull_queue
from media_jobs.models import AnimatedImageTemplate, Workflow, WorkflowStep

# About 300 generated requests in CI; `python -m tests.api.fuzz` runs a longer campaign.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))

# No 5xx, and status codes, content types and bodies as documented. Not checked: acceptance of
# schema-valid data (ranges live in the shared validation routine, as in the console, so an
# out-of-range width is rightly a 400) and rejection of lenient input (unknown query parameters
# are ignored, a number is read as a Unix time).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    # Pulls long-poll when the queue is empty (it is here): a 0.2 s ceiling keeps the run fast,
    # and longer waits are refused with a 400 the document allows.
    monkeypatch.setattr(pull_queue, "MAX_WAIT_SECONDS", 0.2)
    template = AnimatedImageTemplate.objects.create(name="fuzz", width=160)
    workflow = Workflow.objects.create(name="fuzz")
    WorkflowStep.objects.create(workflow=workflow, position=0, template=template)
    return ApiKey.issue("fuzz")[1]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_never_answers_5xx_and_matches_its_document(case, token: str) -> None:  # noqa: ANN001
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
