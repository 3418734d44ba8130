"""The audit vocabulary is closed, unique and reads ``noun:…:verb``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import hanoi247
from hanoi247.domain.audit_tags import NOT_A_PAST_PARTICIPLE, AuditTag, require_tag

SRC = Path(hanoi247.__file__).parent
NOUNS = {"account", "oncall", "request", "deadline", "node", "federation", "treaty"}
NOUNS |= {"directory", "notification", "audit", "evidence", "drill", "peer", "provider"}
SEGMENT = r"[a-z][a-z0-9_]*"
IRREGULAR_PARTICIPLES = {"set", "sent", "withdrawn", "read", "reset"}


def test_every_audit_tag_value_is_unique() -> None:
    values = [tag.value for tag in AuditTag]
    assert len(values) == len(set(values))
    assert len(AuditTag.__members__) == len(values)  # no member is an alias of another


@pytest.mark.parametrize("tag", list(AuditTag), ids=lambda t: t.value)
def test_every_audit_tag_reads_noun_then_verb(tag: AuditTag) -> None:
    assert re.fullmatch(rf"{SEGMENT}(:{SEGMENT})+", tag.value)
    noun, *_, verb = tag.value.split(":")
    assert noun in NOUNS
    assert tag.name == tag.value.replace(":", "_").upper()
    if tag in NOT_A_PAST_PARTICIPLE:  # released before the rule; entries carry them
        assert tag.value in {"account:logout", "request:preservation:at_risk"}
    else:
        words = verb.split("_")  # "executed_partially", "missed_by_peer", "not_applied"
        assert any(w.endswith("ed") or w in IRREGULAR_PARTICIPLES for w in words), verb


def test_require_tag_refuses_a_string_that_equals_a_member() -> None:
    assert require_tag(AuditTag.REQUEST_SENT) == "request:sent"
    with pytest.raises(TypeError, match="AuditTag"):
        require_tag("request:sent")


def test_no_module_passes_a_string_literal_as_an_audit_tag() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "tag" and isinstance(keyword.value, ast.Constant | ast.JoinedStr):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []
