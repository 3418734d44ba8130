"""The shortcuts in adapters/federation/schemas.py decide exactly as jsonschema does.

``_validator`` resolves every ``$ref`` once (the schemas are inlined) and ``problem`` proves
the common message.json document valid without jsonschema's walk; both must give the same
reason codes as jsonschema with the published schemas and their references.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hanoi247.adapters.federation import schemas

VALID: dict[str, Any] = {
    "header": {
        "protocol": "hanoi247/1",
        "message_id": "0193a8e2-7c4d-7abc-8def-0123456789ab",
        "type": "drill.ping",
        "from_node": "VN",
        "to_node": "FR",
        "sent_at": "2026-12-07T05:00:00.123456Z",
        "case_id": None,
        "in_reply_to": None,
    },
    "body": {"note": "hello"},
}

MUTATIONS: list[tuple[str, Any]] = [
    ("protocol", "hanoi247/2"),
    ("protocol", None),
    ("message_id", "0193A8E2-7C4D-7ABC-8DEF-0123456789AB"),
    ("message_id", "0193a8e2-7c4d-4abc-8def-0123456789ab"),
    ("message_id", 7),
    ("type", ""),
    ("type", "x" * 257),
    ("type", "x" * 256),
    ("from_node", "-VN"),
    ("from_node", "VN\n"),
    ("to_node", "F" * 65),
    ("sent_at", "2026-12-07T05:00:00+00:00"),
    ("sent_at", "2026-12-07T05:00:00.1234567Z"),
    ("case_id", ""),
    ("case_id", "c" * 257),
    ("case_id", "case-1"),
    ("case_id", 1),
    ("in_reply_to", []),
    ("in_reply_to", "0193a8e2-7c4d-7abc-8def-0123456789ab"),
]


def reference_problem(name: str, instance: object) -> str | None:
    """The reason code jsonschema gives with the schemas as published ($refs resolved
    through the registry at validation time)."""
    registry = schemas._registry()
    validator = Draft202012Validator(registry.contents(schemas.BASE + name), registry=registry)
    errors = sorted(
        validator.iter_errors(instance),
        key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path], e.validator),
    )
    return schemas._reason(errors[0]) if errors else None


def documents() -> list[Any]:
    out: list[Any] = [copy.deepcopy(VALID)]
    for member, value in MUTATIONS:
        doc = copy.deepcopy(VALID)
        doc["header"][member] = value
        out.append(doc)
    missing = copy.deepcopy(VALID)
    del missing["header"]["in_reply_to"]
    extra = copy.deepcopy(VALID)
    extra["header"]["extra"] = "x"
    out += [missing, extra, {"header": VALID["header"]}, {**VALID, "more": 1}, [], "x"]
    out.append({"header": VALID["header"], "body": []})
    return out


@pytest.mark.parametrize("document", documents())
def test_message_reason_codes_equal_jsonschema_with_references(document: Any) -> None:
    assert schemas.problem("message.json", document) == reference_problem("message.json", document)


def test_valid_message_is_proven_without_jsonschema() -> None:
    assert schemas._message_valid(copy.deepcopy(VALID)) is True


@pytest.mark.parametrize("document", documents()[1:])
def test_message_shortcut_never_accepts_what_jsonschema_refuses(document: Any) -> None:
    if reference_problem("message.json", document) is not None:
        assert schemas._message_valid(document) is False


@pytest.mark.parametrize("name", sorted(schemas.schema_files()))
def test_every_schema_is_inlined_without_references(name: str) -> None:
    assert "$ref" not in str(schemas._validator(name).schema)
