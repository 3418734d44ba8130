"""``/statistics``: the node's figures of a period (issue 11), for supervisors, central
authorities and auditors (``statistics:read``).

``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (UTC days, both included; default: the 365 days up to
today). Each section is a table of the figures, most with a bar chart of the same figures
before it (``entrypoints/charts.py``: inline SVG written here, no script). The same
period downloads as CSV or JSON (``/statistics.csv``, ``/statistics.json``: what
``hanoi247 stats export`` writes) and as a PDF report for the Conference of the States
Parties in the viewer's language (``/statistics.pdf?lang=xx``). Counts and durations only:
no reference, id or text of a request is on the page or in the files.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hanoi247.domain.accounts import Permission
from hanoi247.domain.errors import InvalidInput
from hanoi247.domain.statistics import Period, Statistics, period_of_days
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.pdf.statistics import render_statistics_pdf
from hanoi247.entrypoints.statistics_report import build_report
from hanoi247.entrypoints.web.pages.desk import BadRequest, WebDesk, desk_of, require
from hanoi247.entrypoints.web.pages.live import SignedIn
from hanoi247.entrypoints.web.pages.render import SECURITY_HEADERS, render
from hanoi247.services.statistics import compute_statistics, statistics_json, statistics_rows

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 365


def _period(request: Request, desk: WebDesk) -> tuple[Period, date, date]:
    today = desk.clock.now().date()
    try:
        first = date.fromisoformat(request.query_params.get("from") or "1970-01-01")
        last = date.fromisoformat(request.query_params.get("to") or today.isoformat())
        if "from" not in request.query_params or not request.query_params["from"]:
            first = last - timedelta(days=DEFAULT_DAYS - 1)
        return period_of_days(first, last), first, last
    except (ValueError, InvalidInput):
        raise BadRequest("from/to") from None


def _compute(desk: WebDesk, period: Period) -> Statistics:
    with desk.uow_factory().read_only() as uow:
        return compute_statistics(uow, period)


def _name(first: date, last: date, suffix: str) -> str:
    return f"statistics-{first.isoformat()}-{last.isoformat()}.{suffix}"


@router.get("/statistics")
async def statistics(request: Request, viewer: SignedIn) -> Response:
    require(viewer, Permission.STATISTICS_READ)
    desk = desk_of(request)
    period, first, last = _period(request, desk)
    stats = await run_in_threadpool(_compute, desk, period)
    report = build_report(stats, viewer.lang, node_name=desk.runtime.local.identity.name)
    query = f"from={first.isoformat()}&to={last.isoformat()}"
    return render(
        request,
        "statistics.html",
        viewer=viewer,
        title=viewer.tr.gettext("Statistics"),
        report=report,
        first=first.isoformat(),
        last=last.isoformat(),
        query=query,
        languages=[(code, i18n.language_name(code)) for code in i18n.LANGUAGES],
    )


@router.get("/statistics.csv")
async def statistics_csv(request: Request, viewer: SignedIn) -> Response:
    require(viewer, Permission.STATISTICS_READ)
    desk = desk_of(request)
    period, first, last = _period(request, desk)
    stats = await run_in_threadpool(_compute, desk, period)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "direction", "item", "value"])
    for row in statistics_rows(stats):
        writer.writerow(["" if v is None else v for v in row])
    return _file(buffer.getvalue().encode(), "text/csv; charset=utf-8", _name(first, last, "csv"))


@router.get("/statistics.json")
async def statistics_file(request: Request, viewer: SignedIn) -> Response:
    require(viewer, Permission.STATISTICS_READ)
    desk = desk_of(request)
    period, first, last = _period(request, desk)
    stats = await run_in_threadpool(_compute, desk, period)
    body = json.dumps(statistics_json(stats), ensure_ascii=False, indent=2).encode()
    return _file(body, "application/json", _name(first, last, "json"))


@router.get("/statistics.pdf")
async def statistics_pdf(request: Request, viewer: SignedIn) -> Response:
    require(viewer, Permission.STATISTICS_READ)
    desk = desk_of(request)
    period, first, last = _period(request, desk)
    lang = request.query_params.get("lang") or viewer.lang
    if lang not in i18n.LANGUAGES:
        raise BadRequest("lang")

    def build() -> bytes:
        stats = _compute(desk, period)
        return render_statistics_pdf(
            stats,
            lang=lang,
            tz=viewer.timezone,
            node_name=desk.runtime.local.identity.name,
            state=desk.runtime.local.identity.state,
            at=desk.clock.now(),
        )

    pdf = await run_in_threadpool(build)
    return _file(pdf, "application/pdf", _name(first, last, "pdf"), inline=True)


def _file(body: bytes, media_type: str, name: str, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'{disposition}; filename="{name}"'}
    headers["Cache-Control"] = "no-store"
    return Response(body, media_type=media_type, headers=headers)
