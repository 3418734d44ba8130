"""The JSON Schemas of ``hanoi247/1`` (docs/schemas/, shipped in ``hanoi247/schemas/``).

The node validates with the same files it publishes: the node card (``card.json``), the
signed payload of a message (``message.json``), receipts (``receipt.json``), key
announcements (``key-announcement.json``) and every message body
(``bodies/<type>.json``). A failure is reported as a reason code in the vocabulary of
docs/protocol.md §5.2 (``missing_field:until``, ``unknown_field:x``, ``bad_field:x``,
``unsupported_version:v``), never with content.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from typing import Any, Final

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

BASE = "https://hanoi247.org/schemas/1/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def schema_root() -> Traversable:
    """The folder of the packaged schemas (docs/schemas/ holds identical copies)."""
    return resources.files("hanoi247").joinpath("schemas")


def schema_files() -> dict[str, bytes]:
    """Every schema file by its path under the schema folder, e.g. ``bodies/drill.ping.json``."""
    root = schema_root()
    found: dict[str, bytes] = {}
    for entry in root.iterdir():
        if entry.name.endswith(".json"):
            found[entry.name] = entry.read_bytes()
    for entry in root.joinpath("bodies").iterdir():
        if entry.name.endswith(".json"):
            found[f"bodies/{entry.name}"] = entry.read_bytes()
    return found


@cache
def _registry() -> Registry[Any]:
    resources_by_uri = [
        (BASE + name, Resource.from_contents(json.loads(raw)))
        for name, raw in schema_files().items()
    ]
    return Registry().with_resources(resources_by_uri)


@cache
def _validator(name: str) -> Any:
    """A validator of schema ``name`` with every ``$ref`` replaced by what it points to,
    resolved once here instead of on every message (the schemas hold no cycles; a schema
    that did would keep its references). The errors are the same: jsonschema reports a
    ``$ref``'s and an ``allOf``'s errors as those of the schema they lead to."""
    contents = _registry().contents(BASE + name)
    try:
        inlined = _inline(contents, _registry().resolver(BASE + name), ())
    except _Cycle:
        return Draft202012Validator(contents, registry=_registry())
    return Draft202012Validator(inlined, registry=_registry())


class _Cycle(Exception):
    """A reference that leads back to itself: that schema is validated with its $refs."""


_SCHEMA_MAPS: Final = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_SCHEMA_LISTS: Final = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_ONE: Final = frozenset(
    {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"}
)


def _inline(schema: Any, resolver: Any, seen: tuple[int, ...]) -> Any:
    if not isinstance(schema, dict):
        return schema  # true / false
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref":
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _inline(sub, resolver, seen) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_inline(sub, resolver, seen) for sub in value]
        elif key in _SCHEMA_ONE:
            out[key] = _inline(value, resolver, seen)
        else:
            out[key] = value
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return out
    resolved = resolver.lookup(ref)
    if id(resolved.contents) in seen or len(seen) > 32:
        raise _Cycle(ref)
    inner = _inline(resolved.contents, resolved.resolver, (*seen, id(resolved.contents)))
    if isinstance(inner, dict):
        inner = {k: v for k, v in inner.items() if k not in ("$id", "$schema")}
    if not out.keys() - {"$id", "$schema", "title", "description"} and isinstance(inner, dict):
        return {**out, **inner}
    out["allOf"] = [*out.get("allOf", []), inner]
    return out


@cache
def body_types() -> frozenset[str]:
    """The message types that have a body schema (read once: asked for every message)."""
    return frozenset(
        name.removeprefix("bodies/").removesuffix(".json")
        for name in schema_files()
        if name.startswith("bodies/")
    )


def problem(name: str, instance: object) -> str | None:
    """The first reason ``instance`` fails schema ``name`` (a reason code), or None."""
    if name == "message.json" and _message_valid(instance):
        return None  # what nearly every envelope is: proven valid without jsonschema's walk
    errors = sorted(
        _validator(name).iter_errors(instance),
        key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path], e.validator),
    )
    return _reason(errors[0]) if errors else None


@cache
def _message_header_rules() -> dict[str, tuple[str, Any]]:
    """The header members of message.json as ``(kind, detail)``, read from the schema
    itself: ``("const", value)``, ``("pattern", compiled)``, ``("text", max_length)`` or
    ``("text_or_null", max_length)``. ``ValueError`` if the schema has another shape."""
    schema = _validator("message.json").schema
    if schema["properties"]["body"] != {"type": "object"}:
        raise ValueError("message.json: unexpected body rule")
    header = schema["properties"]["header"]
    rules: dict[str, tuple[str, Any]] = {}
    for member, rule in header["properties"].items():
        if set(rule) == {"const"}:
            rules[member] = ("const", rule["const"])
        elif rule.get("type") == "string" and set(rule) <= {"type", "pattern", "description"}:
            rules[member] = ("pattern", re.compile(rule["pattern"]))
        elif _short_text(rule) is not None:
            rules[member] = ("text", _short_text(rule))
        elif set(rule) == {"oneOf"} and [o.get("type") for o in rule["oneOf"]][:1] == ["null"]:
            rest = _short_text(rule["oneOf"][1]) if len(rule["oneOf"]) == 2 else None
            if rest is None or set(rule["oneOf"][0]) != {"type"}:
                raise ValueError(f"message.json: unexpected rule for {member}")
            rules[member] = ("text_or_null", rest)
        else:
            raise ValueError(f"message.json: unexpected rule for {member}")
    if set(header["required"]) != set(rules) or header.get("additionalProperties") is not False:
        raise ValueError("message.json: unexpected header rules")
    return rules


def _short_text(rule: dict[str, Any]) -> int | None:
    shape = set(rule) <= {"type", "minLength", "maxLength", "description"}
    if shape and rule.get("type") == "string" and rule.get("minLength") == 1:
        return int(rule["maxLength"]) if "maxLength" in rule else None
    return None


def _message_valid(instance: object) -> bool:
    """True only when ``instance`` certainly satisfies message.json (a document with exactly
    ``header`` and ``body``, every header member as the schema's rule says); False means
    "let jsonschema decide and name the reason". Rules are the schema's own."""
    if type(instance) is not dict or instance.keys() != {"header", "body"}:
        return False
    header, body = instance["header"], instance["body"]
    if type(body) is not dict or type(header) is not dict:
        return False
    rules = _message_header_rules()
    if header.keys() != rules.keys():
        return False
    for member, (kind, detail) in rules.items():
        value = header[member]
        if kind == "const":
            ok = type(value) is type(detail) and value == detail
        elif kind == "pattern":
            ok = type(value) is str and detail.search(value) is not None
        elif kind == "text":
            ok = type(value) is str and 1 <= len(value) <= detail
        else:
            ok = value is None or (type(value) is str and 1 <= len(value) <= detail)
        if not ok:
            return False
    return True


def body_problem(message_type: str, body: object) -> str | None:
    """Why ``body`` is not a valid body of ``message_type``; None if valid or no schema."""
    if message_type not in body_types():
        return None
    return problem(f"bodies/{message_type}.json", body)


def _reason(error: Any) -> str:
    path = [str(p) for p in error.absolute_path]
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = next(p for p in error.validator_value if p not in instance)
        return "missing_field:" + ".".join([*path, missing])
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in instance if k not in allowed)[0]
        return "unknown_field:" + ".".join([*path, str(extra)])
    if error.validator == "const" and path == ["v"]:
        return "unsupported_version:v"
    return "bad_field:" + (".".join(path) or "body")
