"""docs/api.md does not rot: its examples are what the API answers.

Every example block (``<!-- example: label -->`` then a request and a response block) is
the exchange of the same label in ``api_tour.tour``: same request line and body, same
status and media type, same response shape (keys and JSON types; a list longer than
twelve items is cut to its first three in the doc). Ids, message ids and key fingerprints
differ each run: they are replaced, in order of first appearance, by stable stand-ins.

To rewrite the examples after changing the API::

    HANOI247_UPDATE_API_DOCS=1 .venv/bin/pytest tests/api/test_api_docs.py
"""

from __future__ import annotations

import http
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from api_support import Exchange
from api_tour import tour
from fastapi import FastAPI

from hanoi247.entrypoints.web.api import install_api

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCK = re.compile(
    r"(<!-- example: (?P<label>[a-z0-9-]+) -->\n)```http\n(?P<request>.*?)```\n\n```http\n"
    r"(?P<response>.*?)```",
    re.S,
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LIST_CUT = 3  # a list longer than LIST_LONG is shown by its first LIST_CUT items
LIST_LONG = 12


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Exchange]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANOI247_ARGON2_FAST", "1")
        exchanges = normalized(tour(tmp_path_factory.mktemp("tour")))
    by_label = {e.label: e for e in exchanges}
    assert len(by_label) == len(exchanges), "labels repeat in the tour"
    return by_label


def normalized(exchanges: list[Exchange]) -> list[Exchange]:
    """Stable stand-ins for what is random in each run: UUIDs, key fingerprints."""
    fingerprints: dict[str, str] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key == "fingerprint" and isinstance(item, str):
                    n = fingerprints.setdefault(item, f"{len(fingerprints) + 1:04X}")
                    out[key] = " ".join([n] * 16)
                else:
                    out[key] = walk(item)
            return out
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    text = json.dumps([walk(e.__dict__) for e in exchanges])
    ids: dict[str, str] = {}

    def stand_in(match: re.Match[str]) -> str:
        n = ids.setdefault(match.group(0), str(len(ids) + 1))
        return f"01930000-0000-7000-8000-{int(n):012d}"

    return [Exchange(**e) for e in json.loads(UUID.sub(stand_in, text))]


def cut(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: cut(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cut(v) for v in (value[:LIST_CUT] if len(value) > LIST_LONG else value)]
    return value


def shape(value: Any) -> Any:
    """Keys and JSON types; a list by the set of its items' shapes."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted({json.dumps(shape(v), sort_keys=True) for v in value})
    return type(value).__name__


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def render(exchange: Exchange) -> tuple[str, str]:
    lines = [f"{exchange.method} {exchange.path}"]
    if exchange.authorized:
        lines.append("Authorization: Bearer h247_…")
    if exchange.body is not None:
        body = exchange.body if isinstance(exchange.body, str) else dumps(exchange.body)
        lines += ["Content-Type: application/json", "", body]
    reason = http.HTTPStatus(exchange.status).phrase
    response = [f"HTTP/1.1 {exchange.status} {reason}", f"Content-Type: {exchange.media_type}"]
    response += ["", dumps(cut(exchange.response))]
    return "\n".join(lines) + "\n", "\n".join(response) + "\n"


def documented() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for match in BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        assert match["label"] not in found, f"example {match['label']} is documented twice"
        found[match["label"]] = (match["request"], match["response"])
    return found


def parse(request: str, response: str) -> dict[str, Any]:
    head, _, body = request.partition("\n\n")
    method, path = head.splitlines()[0].split(" ", 1)
    status_line, _, answer = response.partition("\n\n")
    status = int(status_line.split()[1])
    media = status_line.splitlines()[1].removeprefix("Content-Type: ")
    sent: Any = None
    if body.strip():
        try:
            sent = json.loads(body)
        except json.JSONDecodeError:
            sent = body.rstrip("\n")
    return {
        "method": method,
        "path": path,
        "body": sent,
        "status": status,
        "media_type": media,
        "response": json.loads(answer),
    }


def test_every_example_in_the_doc_is_what_the_api_answers(recorded: dict[str, Exchange]) -> None:
    if os.environ.get("HANOI247_UPDATE_API_DOCS"):
        missing = sorted(set(recorded) - set(documented()))
        assert not missing, f"add <!-- example: … --> blocks to docs/api.md for {missing}"

        def fill(match: re.Match[str]) -> str:
            request, response = render(recorded[match["label"]])
            return f"{match.group(1)}```http\n{request}```\n\n```http\n{response}```"

        DOC.write_text(BLOCK.sub(fill, DOC.read_text(encoding="utf-8")), encoding="utf-8")
    docs = documented()
    assert sorted(docs) == sorted(recorded), "docs/api.md and api_tour.tour list other examples"
    for label, (request, response) in docs.items():
        doc, live = parse(request, response), recorded[label]
        assert (doc["method"], doc["path"]) == (live.method, live.path), label
        assert doc["body"] == live.body, label
        assert (doc["status"], doc["media_type"]) == (live.status, live.media_type), label
        assert shape(doc["response"]) == shape(cut(live.response)), label


def test_every_operation_of_the_api_has_an_example_in_the_doc() -> None:
    app = FastAPI(openapi_url="/api/v1/openapi.json")
    install_api(app)
    examples = [parse(*blocks) for blocks in documented().values()]
    for path, operations in app.openapi()["paths"].items():
        pattern = re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path)) + r"(\?.*)?")
        for method in operations:
            assert any(
                e["method"] == method.upper() and pattern.fullmatch(e["path"]) for e in examples
            ), f"docs/api.md has no example of {method.upper()} {path}"
