"""``hanoi247 evidence``: add files to a request, list them, open one, export a package.

Progress (bytes, rate, time left) goes to stderr; JSON goes to stdout.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from hanoi247.domain.evidence import EvidenceItem
from hanoi247.entrypoints.cli_common import DataDirOption, emit, fail
from hanoi247.services.evidence import EvidenceDesk

evidence_app = typer.Typer(
    help="Evidence files: streamed in encrypted, with chain of custody.", no_args_is_help=True
)

ByOption = Annotated[str, typer.Option("--by", help="Who acts (for the chain of custody).")]


class ExportFormat(StrEnum):
    CASE = "case"
    AGE = "age"


@contextmanager
def _desk(data_dir: Path | None) -> Iterator[EvidenceDesk]:
    from hanoi247.bootstrap_desk import node_desk
    from hanoi247.process_settings import settings_for

    settings = settings_for(data_dir)
    with node_desk(settings) as desk:
        if desk is None:
            fail(f"no node database in {settings.data_dir}; run `hanoi247 init` first")
        yield desk


def item_json(item: EvidenceItem) -> dict[str, Any]:
    return {
        "item_id": item.item_id,
        "file_name": item.file_name,
        "size": item.size,
        "sha256": item.sha256,
        "media_type": item.media_type,
        "status": item.status.value,
        "origin_node": item.origin_node,
        "added_at": item.added_at.isoformat(),
        "added_by": item.added_by,
    }


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


@evidence_app.command("add")
def add_command(
    ref: Annotated[str, typer.Argument(help="The request: its reference or id.")],
    files: Annotated[list[Path], typer.Argument(help="Files to add (streamed, never copied).")],
    by: ByOption = "operator",
    collected_at: Annotated[
        str | None,
        typer.Option(help="When the data was collected (ISO 8601 with offset), if known."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Hash, sniff and encrypt each FILE in one pass; record it on the request."""
    from hanoi247.domain.evidence import check_file_name
    from hanoi247.services.evidence import add_evidence, list_evidence

    collected = _aware(collected_at, "--collected-at") if collected_at else None
    for file in files:
        if not file.is_file():
            fail(f"{file}: no such file")
        check_file_name(file.name)
    added = []
    with _desk(data_dir) as desk:
        list_evidence(desk, ref)  # an unknown request fails before any progress is drawn
        with _progress() as progress:
            for file in files:
                task = progress.add_task(file.name[:40], total=file.stat().st_size)
                with file.open("rb") as source:
                    item = add_evidence(
                        desk,
                        ref=ref,
                        file_name=file.name,
                        source=source,
                        actor=by,
                        collected_at=collected,
                        progress=lambda done, task=task: progress.update(task, completed=done),
                    )
                added.append(item_json(item))
    emit(added)


@evidence_app.command("list")
def list_command(
    ref: Annotated[str, typer.Argument(help="The request: its reference or id.")],
    data_dir: DataDirOption = None,
) -> None:
    """The request's evidence items and their custody events."""
    from hanoi247.services.evidence import custody_timeline, list_evidence

    with _desk(data_dir) as desk:
        request, items = list_evidence(desk, ref)
        events = custody_timeline(desk, request.id)
    emit(
        {
            "request": request.reference,
            "items": [item_json(i) for i in items],
            "custody": [
                {
                    "item_id": e.item_id,
                    "action": e.action.value,
                    "actor": e.actor,
                    "node_id": e.node_id,
                    "at": e.at.isoformat(),
                    "sha256": e.sha256,
                    "detail": e.detail,
                }
                for e in events
            ],
        }
    )


@evidence_app.command("get")
def get_command(
    item_id: Annotated[str, typer.Argument(help="The evidence item's id.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the file into.")],
    by: ByOption = "operator",
    data_dir: DataDirOption = None,
) -> None:
    """Decrypt one item into DIR, checked against its SHA-256 (recorded as 'opened')."""
    from hanoi247.services.evidence import get_item, open_evidence

    with _desk(data_dir) as desk:
        item = get_item(desk, item_id)
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = out / item.file_name
        if target.exists():
            fail(f"{target} exists; choose another --out directory")
        part = out / f".{item.item_id}.part"
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as sink:
                open_evidence(desk, item_id, sink, actor=by)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        part.rename(target)
    emit({**item_json(item), "path": str(target)})


@evidence_app.command("export")
def export_command(
    ref: Annotated[str, typer.Argument(help="The request: its reference or id.")],
    out: Annotated[Path, typer.Option("--out", help="File (case) or new directory (age).")],
    format: Annotated[ExportFormat, typer.Option("--format", help="case or age.")] = (
        ExportFormat.CASE
    ),
    recipient: Annotated[
        list[str] | None,
        typer.Option("--recipient", help="age recipient (age1…) who opens the package."),
    ] = None,
    by: ByOption = "operator",
    data_dir: DataDirOption = None,
) -> None:
    """CASE/UCO JSON-LD of the custody, or an age package that `age` and `sha256sum -c` open."""
    from hanoi247.services.evidence_export import export_age, export_case

    with _desk(data_dir) as desk:
        if format is ExportFormat.CASE:
            if out.exists():
                fail(f"{out} exists; choose another --out file")
            document = export_case(desk, ref, actor=by)
            out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
            emit({"format": "case", "path": str(out), "nodes": len(document["@graph"])})
            return
        for value in recipient or []:
            if not value.startswith("age1"):
                fail(f"--recipient {value[:20]!r} is not an age recipient (age1…)")
        items = export_age(desk, ref, out, recipients=recipient or [], actor=by)
    emit({"format": "age", "path": str(out), "files": [i.file_name for i in items]})


def _aware(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not an ISO 8601 time")
    if moment.tzinfo is None:
        fail(f"{option} {value!r} needs a UTC offset, e.g. 2026-12-01T10:00:00+07:00")
    return moment


@evidence_app.command("send")
def send_command(
    ref: Annotated[str, typer.Argument(help="The request: its reference or id.")],
    by: ByOption = "operator",
    data_dir: DataDirOption = None,
) -> None:
    """Offer the request's evidence to the counterpart node (signed manifest via the outbox;
    the peer then pulls the chunks from `hanoi247 serve`)."""
    from hanoi247.services.evidence_transfer import offer_evidence

    with _desk(data_dir) as desk:
        items = offer_evidence(desk, ref, actor=by)
    emit({"offered": [item_json(i) for i in items]})


@evidence_app.command("pull")
def pull_command(data_dir: DataDirOption = None) -> None:
    """Fetch now the chunks of evidence that peers offered (`serve` does it every few
    seconds); resumes where an earlier pull stopped."""
    from hanoi247.bootstrap import build_runtime, chunk_source, settings_for
    from hanoi247.services.evidence_pull import PARALLEL_FETCHES, pull_pending

    runtime = build_runtime(settings_for(data_dir))
    try:
        if runtime.evidence is None or runtime.staging is None:
            fail(
                "this node has no evidence key (keys/evidence.age); run `hanoi247 node rotate-keys`"
            )
        with chunk_source(runtime) as source:
            items = pull_pending(
                runtime.evidence, runtime.staging, source, parallel=PARALLEL_FETCHES
            )
    finally:
        runtime.close()
    emit({"pulled": [item_json(i) for i in items]})
