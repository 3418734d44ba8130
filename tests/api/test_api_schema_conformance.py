"""What schemathesis found, one test each: the API answers as its OpenAPI document says.

``test_api_schemathesis`` fuzzes every operation; these pin each fix with a named case:
``Allow`` on 405, undecodable bodies, numbers where the schema wants a day, a time or a
count, state-dependent refusals as 409, and the input rules written into the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_support import ApiNode, api_nodes

from evidence_transfer_support import with_evidence_key
from hanoi247.entrypoints.web.api.input_rules import NONBLANK, TEXT, document_input_rules
from hanoi247.entrypoints.web.problems import PROBLEM_JSON
from workflow_harness import PRESERVATION

R = "/api/v1/requests"


@pytest.fixture(scope="module")
def vn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    with api_nodes(tmp_path_factory.mktemp("conformance")) as (vn, _fr, _clock):
        with_evidence_key(vn.node)
        yield vn


def _draft(vn: ApiNode) -> str:
    created = vn.post(R, "an", json=PRESERVATION)
    assert created.status_code == 201, created.text
    request_id: str = created.json()["id"]
    return request_id


def test_a_405_lists_every_method_of_the_path_in_allow(vn: ApiNode) -> None:
    answer = vn.call("OPTIONS", f"{R}/{_draft(vn)}", "an")

    assert answer.status_code == 405
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers["allow"] == "GET, PATCH"  # two routes serve this path


def test_a_body_that_is_not_utf8_is_a_documented_422_not_a_400(vn: ApiNode) -> None:
    path = f"{R}/{_draft(vn)}/withdraw"
    answer = vn.post(path, "an", content=b"\xff\xfe{", headers={"Content-Type": "application/json"})

    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_body"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("phone-contact", {"at": 0, "counterpart": "FR desk", "summary": "Called."}),
        ("evidence/uploads", {"file_name": "a.txt", "size": True}),
    ],
)
def test_numbers_and_booleans_are_not_taken_for_times_or_sizes(
    vn: ApiNode, path: str, body: dict[str, Any]
) -> None:
    answer = vn.post(f"{R}/{_draft(vn)}/{path}", "an", json=body)

    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_body"


def test_a_number_is_not_a_day_in_the_query(vn: ApiNode) -> None:
    answer = vn.get("/api/v1/treaty/status?on=0", "an")

    assert answer.status_code == 422, answer.text


def test_an_unknown_upload_is_404(vn: ApiNode) -> None:
    answer = vn.get("/api/v1/evidence/uploads/0", "an")

    assert (answer.status_code, answer.json()["code"]) == (404, "evidence_rejected")


def test_sending_an_incomplete_draft_is_409_with_what_is_missing(vn: ApiNode) -> None:
    draft = vn.post(R, "an", json={k: v for k, v in PRESERVATION.items() if k != "necessity"})

    answer = vn.post(f"{R}/{draft.json()['id']}/send", "an")

    assert (answer.status_code, answer.json()["code"]) == (409, "missing_element")
    assert [p["element"] for p in answer.json()["problems"]] == ["necessity"]


def test_the_document_states_the_text_rules_state_codes_and_rule_codes(vn: ApiNode) -> None:
    schema = vn.get("/api/v1/openapi.json", None).json()
    bodies = schema["components"]["schemas"]

    assert bodies["QuestionBody"]["properties"]["question"]["pattern"] == NONBLANK
    assert bodies["NoteBody"]["properties"]["note"]["pattern"] == TEXT
    assert "VN" in bodies["ForwardBody"]["properties"]["to"]["enum"]
    assert "essential_interests" in bodies["RefuseBody"]["properties"]["grounds"]["items"]["enum"]
    treaty = schema["paths"]["/api/v1/treaty/grounds"]["get"]["parameters"]
    assert next(p for p in treaty if p["name"] == "instrument")["schema"]["enum"] == [
        "uncc",
        "budapest",
    ]
    # Answers are not constrained: a peer's text is shown as it came (escaped), not refused.
    assert "pattern" not in bodies["ProblemDetails"]["properties"]["title"]


def test_input_rules_leave_answers_and_typed_strings_alone() -> None:
    def ref(name: str) -> dict[str, Any]:
        return {
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
        }

    day = {"name": "on", "schema": {"type": "string", "format": "date"}}
    operation = {"parameters": [day], "requestBody": ref("In"), "responses": {"200": ref("Out")}}
    taken = {"to": {"type": "string", "pattern": "^[A-Z]{2}$"}, "free": {"type": "object"}}
    schema: dict[str, Any] = {
        "paths": {"/api/v1/x": {"post": operation}},
        "components": {
            "schemas": {
                "In": {"type": "object", "properties": taken},
                "Out": {"type": "object", "properties": {"text": {"type": "string"}}},
            }
        },
    }

    document_input_rules(schema, "/api/v1", ["FR", "VN"], {})

    parts = schema["components"]["schemas"]
    assert parts["In"]["properties"]["to"]["enum"] == ["FR", "VN"]
    assert parts["In"]["properties"]["free"]["propertyNames"] == {"pattern": TEXT}
    assert parts["Out"]["properties"]["text"] == {"type": "string"}
    assert schema["paths"]["/api/v1/x"]["post"]["parameters"][0]["schema"] == {
        "type": "string",
        "format": "date",
    }
