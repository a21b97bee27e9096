"""The API fuzzed from its own OpenAPI schema (schemathesis): whatever arrives, never a 5xx;
bad input is a documented 4xx with a message; answers match their documented schema.

Each operation gets schema-valid input (positive) and input that breaks the schema
(negative), as the supervisor of a team (a role that may do most things)."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.core.result import Ok
from schemathesis.specs.openapi import checks as openapi_checks

from tests.entrypoints.web.desk_book import Desk, build_desk, desk_on
from tests.entrypoints.web.routes import every_route

# Schema-valid input may still be refused by the business (a case outside the caller's scope,
# a promise in the past): "valid data is always accepted" does not hold for such an API.
EXCLUDED: list[CheckFunction] = [openapi_checks.positive_data_acceptance]
UNDOCUMENTED = ("/api/v1/openapi.json", "/api/v1/docs")  # the schema and its viewer
NO_INPUT = {"GET /api/v1/me", "GET /api/v1/approvals", "GET /api/v1/audit/verify"}
EXAMPLES = int(os.environ.get("ARREARS_FUZZ_EXAMPLES", "25"))  # per operation and mode


@pytest.fixture(scope="module")
def fuzz_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    work: Path = tmp_path_factory.mktemp("fuzz")
    app = build_desk(f"sqlite:///{work / 'desk.db'}", work)
    yield desk_on(app)
    app.close()


@pytest.fixture(scope="module")
def supervisor(fuzz_desk: Desk) -> dict[str, str]:
    """A supervisor's bearer token, taken before the fuzzing of /tokens throttles log-ins."""
    return fuzz_desk.bearer("sup-east")


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_the_api_answers_every_input_with_a_documented_answer(
    fuzz_desk: Desk, supervisor: dict[str, str], mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_desk.web)
    headers = supervisor
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an invalid operation: {result.err()}"
        operations.append(result.ok())
    served = {f"{method} {path}" for method, path in every_route(fuzz_desk.web)
              if path.startswith("/api/v1/") and path not in UNDOCUMENTED}  # fmt: skip
    assert {operation.label for operation in operations} == served
    nothing_to_break = []
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode)

        @given(case=strategy, _=st.just(operation.label))
        # Derandomized: the same inputs every run, so CI cannot fail on a new random draw;
        # run with a fresh seed (ARREARS_FUZZ_RANDOM=1, ARREARS_FUZZ_EXAMPLES=150) to explore
        # further. Seen then: "additionalProperties accepted" for a query whose extra property
        # the HTTP client drops before sending (nothing reaches the server to refuse).
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  derandomize=os.environ.get("ARREARS_FUZZ_RANDOM") != "1",
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def call(case: schemathesis.Case[Any], _: str) -> None:
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

        try:
            call()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
            nothing_to_break.append(operation.label)
    # Only operations without any input have no invalid input to send.
    assert set(nothing_to_break) <= NO_INPUT
