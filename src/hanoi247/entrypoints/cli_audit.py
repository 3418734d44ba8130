"""``hanoi247 audit …``: verify the log (and what peers witnessed), export it, send a
checkpoint now, and hand a peer's auditor the checkpoints this node holds for it.

* ``verify [--witness FILE]…`` — the hash chain, and every checkpoint in the files
  (``hanoi247 audit witnessed`` run at a peer); names the first entry that cannot be
  trusted; exit 1 when one is found.
* ``export [--out FILE]`` — the log as JSON lines, one entry per line, oldest first.
* ``checkpoint`` — sign and send the log's head to every active peer now.
* ``witnessed --node NODE_ID [--out FILE]`` — the checkpoints of NODE_ID kept here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from hanoi247.domain.audit import AuditEntry
from hanoi247.domain.audit_witness import AuditVerdict, Checkpoint, verdict_of
from hanoi247.domain.errors import Hanoi247Error
from hanoi247.entrypoints.cli_common import DataDirOption, emit, fail, node_uow
from hanoi247.services import audit_witness
from hanoi247.services.federation import UnprocessableMessage

audit_app = typer.Typer(
    help="The audit log: verify it (with what peers witnessed), export it, checkpoint it.",
    no_args_is_help=True,
)
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write to this file (default: standard output).")
]


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": entry.actor,
        "tag": entry.tag,
        "subject": entry.subject,
        "details": dict(entry.details),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


@contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    if out is None:
        yield typer.get_text_stream("stdout")
        return
    try:
        with out.open("x", encoding="utf-8") as handle:
            out.chmod(0o600)
            yield handle
    except FileExistsError:
        fail(f"{out} already exists; choose another file name")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror}")


def _node_id(data_dir: Path | None) -> str:
    from hanoi247.adapters.federation.node import read_identity
    from hanoi247.bootstrap import settings_for

    try:
        return read_identity(settings_for(data_dir).data_dir).node_id
    except Hanoi247Error as error:
        fail(str(error))


def _read_witness_files(files: list[Path]) -> list[tuple[str, Checkpoint]]:
    held: list[tuple[str, Checkpoint]] = []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            fail(f"cannot read {path}: {error.strerror}")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                held.append(audit_witness.read_witness_line(json.loads(line)))
            except (json.JSONDecodeError, UnprocessableMessage, AttributeError):
                fail(f"{path}:{number} is not a line of `hanoi247 audit witnessed`")
    return held


@audit_app.command("verify")
def verify(
    witness: Annotated[
        list[Path] | None,
        typer.Option(
            "--witness",
            help="Checkpoints a peer holds for this node (`hanoi247 audit witnessed` "
            "run at that peer); repeat for several peers.",
        ),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check the hash chain and the peers' checkpoints; name the first bad entry."""
    node_id = _node_id(data_dir)
    held = _read_witness_files(witness or [])
    foreign = sorted({c.node_id for _, c in held} - {node_id})
    if foreign:
        fail(f"the witness files hold checkpoints of {', '.join(foreign)}, not of {node_id}")
    from hanoi247.bootstrap import scan_audit_log, settings_for

    with node_uow(data_dir):  # the node's database exists, at the current schema
        pass
    # Raw rows in batches, one span per CPU: a damaged row is a broken entry, named.
    scan = scan_audit_log(settings_for(data_dir), want=frozenset(c.seq for _, c in held))
    verdict = verdict_of(scan, held)
    document = {
        "ok": verdict.ok,
        "entries": verdict.entries,
        "checkpoints_checked": verdict.checkpoints,
        "first_bad_seq": verdict.first_bad_seq,
        "finding": verdict.finding.value if verdict.finding else None,
        "witnessed_seq": verdict.witnessed_seq,
        "witness": verdict.witness,
    }
    if as_json:
        emit(document)
    elif verdict.ok:
        typer.echo(
            f"The audit log holds: {verdict.entries} entries, "
            f"{verdict.checkpoints} witnessed checkpoints match."
        )
    if verdict.ok:
        return
    if not as_json:
        typer.echo(_explain(verdict), err=True)
    raise typer.Exit(1)


def _explain(verdict: AuditVerdict) -> str:
    first = verdict.first_bad_seq
    if verdict.witness is None:
        return (
            f"hanoi247: audit log broken at entry {first}: an entry was changed, removed, "
            "inserted or moved there"
        )
    finding = verdict.finding.value if verdict.finding else ""
    return (
        f"hanoi247: audit log rewritten: entry {first} onward differs from what "
        f"{verdict.witness} witnessed at entry {verdict.witnessed_seq} ({finding})"
    )


@audit_app.command("export")
def export(out: OutOption = None, data_dir: DataDirOption = None) -> None:
    """Write the audit log as JSON lines (one entry a line, oldest first)."""
    with node_uow(data_dir) as uow:
        try:
            entries = uow.audit.entries()
        except Hanoi247Error as error:
            fail(f"{error}; run `hanoi247 audit verify`", 1)
    with _output(out) as handle:
        for entry in entries:
            handle.write(json.dumps(entry_json(entry), ensure_ascii=False, sort_keys=True))
            handle.write("\n")


@audit_app.command("checkpoint")
def checkpoint(
    data_dir: DataDirOption = None,
    by: Annotated[str, typer.Option("--by", help="Who asks (for the audit trail).")] = "operator",
) -> None:
    """Sign and send the log's head to every active peer now (the node does it by itself
    every HANOI247_AUDIT_CHECKPOINT_ENTRIES entries or _MINUTES minutes)."""
    node_id = _node_id(data_dir)
    with node_uow(data_dir) as uow:
        peers = audit_witness.send_checkpoint(uow, node_id=node_id, at=datetime.now(UTC), actor=by)
        uow.commit()
    typer.echo(f"Checkpoint queued for {peers} peers; the running node sends it.")


@audit_app.command("witnessed")
def witnessed(
    node: Annotated[str, typer.Option("--node", help="The peer's node id.")],
    out: OutOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """The checkpoints of a peer's audit log kept here, as JSON lines: give the file to
    that peer's auditor for `hanoi247 audit verify --witness FILE`."""
    me = _node_id(data_dir)
    with node_uow(data_dir) as uow:
        if uow.peers.get(node) is None:
            fail(f"{node} is not a pinned peer of this node (`hanoi247 peer list`)")
        held = audit_witness.witnessed(uow, node)
    with _output(out) as handle:
        for item in held:
            handle.write(json.dumps(audit_witness.checkpoint_json(me, item), sort_keys=True))
            handle.write("\n")
