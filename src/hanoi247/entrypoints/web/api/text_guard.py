"""Refuse characters no case should hold, before any route of the API runs.

Every string of the request is checked (``domain.text``): the JSON body (member names
too), the query parameters and the path. A lone surrogate (``"\\ud800"`` in JSON), a
NUL or other control character, or a bidirectional override or isolate is answered 422
``invalid_text``, each problem naming the element (``body.facts``, ``query.to``) — so
nothing stored can later make a case unreadable or display reordered. Strings of an
accepted JSON body are NFC-normalised before the route parses it (one spelling per
identifier). A body that is not JSON is left to the route (it answers 422 itself).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from hanoi247.domain.text import FAULT_DETAIL, FaultAt, faults_in, normalised, text_fault
from hanoi247.entrypoints.web.problems import ProblemResponse, problem


def guard_text(request: Request, body: bytes) -> tuple[ProblemResponse | None, bytes]:
    """(a 422 problem, or None; the body to hand to the route, NFC-normalised)."""
    found = [
        FaultAt(f"query.{k}", f)
        for k, v in request.query_params.multi_items()
        for f in [text_fault(k) or text_fault(v)]
        if f is not None
    ]
    path_fault = text_fault(request.url.path)
    if path_fault is not None:
        found.append(FaultAt("path", path_fault))
    document: Any = None
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if body and (not media or media.endswith("json")):  # FastAPI reads both as JSON
        try:
            document = json.loads(body)
        except ValueError:  # not JSON: the route's own parser answers
            document = None
        if document is not None:
            found += [
                FaultAt(f"body.{f.path}" if f.path else "body", f.fault)
                for f in faults_in(document)
            ]
    if found:
        listed = [
            {"element": f.path, "code": f.fault.value, "message": FAULT_DETAIL[f.fault]}
            for f in found
        ]
        return (
            problem(
                422,
                "invalid_text",
                "The request holds characters this node refuses",
                "Remove lone surrogates, NUL and control characters, and bidirectional "
                "overrides or isolates from the listed elements, then send again.",
                problems=listed,
            ),
            body,
        )
    if document is not None:
        normal = normalised(document)
        if normal != document:
            body = json.dumps(normal, ensure_ascii=False).encode("utf-8")
    return None, body
