"""The OpenAPI document says what the API accepts: its text rules and State codes.

The API refuses characters no case should hold in every string it is sent (the body,
the query, the path: ``text_guard.py``, 422 ``invalid_text``), and takes a State as the
code of a participant the node knows (422 ``unknown_state`` otherwise). The pydantic
models cannot say either, so ``document_input_rules`` writes them into the generated
document, on what clients send only (parameters and request bodies, not answers):

* every free string: ``pattern`` ``TEXT`` (no C0 or C1 control but tab, line feed and
  carriage return, no bidirectional override or isolate; lone surrogates are refused
  too, which a JSON Schema pattern cannot name); a string that must hold a non-blank
  character (``\\S``): ``NONBLANK``;
* a State code (``^[A-Z]{2}$``): ``enum`` of the known codes (``domain.states``);
* a code of the rule files (``x-codes``: ``instruments``, ``delay_reasons``,
  ``refusal_grounds``): ``enum`` of the codes the node's rule files define.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

CONTROLS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069"
TEXT = f"^[^{CONTROLS}]*$"
NONBLANK = f"^[^{CONTROLS}]*[^\\s{CONTROLS}][^{CONTROLS}]*$"
STATE_CODE = "^[A-Z]{2}$"
REF = "#/components/schemas/"
_UNTYPED_FORMATS = frozenset({"date", "date-time", "binary", "uuid"})


def document_input_rules(
    schema: dict[str, Any],
    prefix: str,
    states: Sequence[str],
    codes: Mapping[str, Sequence[str]],
) -> None:
    """Add the text rules, State codes and rule-file codes to what ``prefix``'s
    operations take."""
    rules = Rules(states, codes)
    components: dict[str, Any] = schema.get("components", {}).get("schemas", {})
    inputs: set[str] = set()
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                rules.constrain(parameter.get("schema", {}))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                body = media.get("schema", {})
                _collect(body, components, inputs)
                rules.constrain(body)
    for name in sorted(inputs):
        rules.constrain(components[name])


def _children(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from node.get("properties", {}).values()
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        yield from node.get(key, [])
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield node[key]


def _collect(node: dict[str, Any], components: dict[str, Any], found: set[str]) -> None:
    """The components ``node`` refers to, however deep."""
    ref = node.get("$ref", "")
    if ref.startswith(REF) and ref[len(REF) :] not in found:
        found.add(ref[len(REF) :])
        _collect(components[ref[len(REF) :]], components, found)
    for child in _children(node):
        _collect(child, components, found)


class Rules:
    def __init__(self, states: Sequence[str], codes: Mapping[str, Sequence[str]]) -> None:
        self.states, self.codes = list(states), {k: list(v) for k, v in codes.items()}

    def constrain(self, node: dict[str, Any]) -> None:
        for branch in node.get("anyOf", []):  # an optional value: the mark is on the union
            if "x-codes" in node and branch.get("type") == "string":
                branch.setdefault("x-codes", node["x-codes"])
        if node.get("type") == "string" and "enum" not in node and "const" not in node:
            self._string(node)
        if node.get("type") == "object" and node.get("additionalProperties", True) is not False:
            node.setdefault("propertyNames", {"pattern": TEXT})
        for child in _children(node):
            self.constrain(child)

    def _string(self, node: dict[str, Any]) -> None:
        pattern = node.get("pattern")
        if self.codes.get(node.get("x-codes", "")):
            node["enum"] = self.codes[node["x-codes"]]
        elif pattern == STATE_CODE:
            node["enum"] = self.states
        elif node.get("format") in _UNTYPED_FORMATS:
            return  # their own syntax says it
        elif pattern is None:
            node["pattern"] = TEXT
        elif pattern == "\\S":
            node["pattern"] = NONBLANK
