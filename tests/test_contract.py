"""The API keeps the contract its OpenAPI document states: schemathesis generates requests from
the document, valid and invalid ones, against a real server on loopback, and every check it has
must pass for every operation. `just fuzz` runs the same test with many more examples."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from tests.conftest import build_db
from tests.server import serving

EXAMPLES = int(os.environ.get("STOREMON_FUZZ_EXAMPLES", "15"))

load_all_checks()
# Every check but "schema-valid data is accepted", which the test below makes exact: a valid
# request may be refused only for what the document cannot say (SEMANTIC_REFUSALS): that an
# as_of must lie within the loaded polls, which files exist on the service's machine, what a
# batch's rows hold.
ALL_CHECKS = [check for check in CHECKS.get_all() if check.__name__ != "positive_data_acceptance"]
# A body larger than the service reads is refused with 413, before it is read: a rejection too.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
            }
        }
    }
)
SEMANTIC_REFUSALS = {
    "bad as_of": ("is outside the loaded polls: choose an instant from", "is not a real instant"),
    "load failed": ("no such file",),
    # A batch's columns have several accepted spellings and its rows are the data's: the
    # document says "CSV, an array of objects, or NDJSON", and the service says what is wrong.
    "batch refused": ("",),
    # a group label is any printable text of 1 to 200 characters: more than a pattern says
    "bad key": ("a group is 1 to",),
}


# The server and its OpenAPI document: set up once in each test process that runs this file's
# tests (about 2 s); its tests, one per operation and mode, spread over the test processes.
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = build_db(tmp_path_factory.mktemp("contract"), stores=40)
    with serving(db) as running:
        yield running


@pytest.fixture(scope="module")
def operations(server):
    document = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json", config=CONFIG)
    return {op.label: op for op in (result.ok() for result in document.get_all_operations())}


# Every route, as the document must list them.
ROUTES = [
    "POST /trigger_report",
    "GET /get_report",
    "GET /get_report/{report_id}",
    "GET /reports/{file_name}",
    "GET /reports/{report_id}/{part}",
    "GET /reports/{report_id}/stores/{store_id}",
    "GET /reports",
    "GET /health",
    "GET /data_quality",
    "POST /ingest",
    "POST /polls",
    "POST /hours",
    "POST /timezones",
    "POST /special_hours",
    "POST /groups",
    "GET /keys",
    "POST /keys",
    "DELETE /keys/{name}",
    "GET /alerts",
    "GET /alerts/down_now",
    "GET /alerts/deliveries",
    "GET /metrics",
]

# The routes that take no parameter and no body: nothing to send them wrong (GET /health).
NOTHING_TO_SEND_WRONG = {"GET /health", "GET /data_quality", "GET /keys", "GET /alerts/down_now",
                         "GET /metrics"}  # fmt: skip


def test_the_document_lists_every_route(operations):
    assert sorted(operations) == sorted(ROUTES)


@pytest.mark.parametrize(
    ("mode", "label"),
    [(GenerationMode.POSITIVE, label) for label in ROUTES]
    + [(GenerationMode.NEGATIVE, label) for label in ROUTES if label not in NOTHING_TO_SEND_WRONG],
)
def test_every_operation_keeps_the_documented_contract(server, operations, mode, label):
    operation = operations[label]
    raw = operation.definition.raw
    # (the negative cases leave out the routes with nothing to send wrong, as the document says)
    assert bool(raw.get("parameters") or raw.get("requestBody")) is (
        label not in NOTHING_TO_SEND_WRONG
    )

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call_and_validate(
            base_url=server.url, headers=server.authorized(), checks=ALL_CHECKS, timeout=30
        )
        if mode == GenerationMode.POSITIVE and response.status_code == 400:
            # Schema-valid, refused only for what the document cannot state.
            answer = response.json()
            reasons = SEMANTIC_REFUSALS.get(answer["error"], ())
            assert any(reason in answer["detail"] for reason in reasons), answer

    check()
