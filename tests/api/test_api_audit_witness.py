"""The audit log witnessed by a peer, and every read of case content in it, on real nodes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from api_support import ApiNode, api_nodes, deliver
from typer.testing import CliRunner

from federation_helpers import run
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.schema import audit_log
from hanoi247.domain.audit import chain_entry
from hanoi247.domain.audit_witness import Finding, verify_log
from hanoi247.entrypoints.cli import app
from hanoi247.services import audit_witness
from workflow_harness import PRESERVATION

REQUESTS = "/api/v1/requests"


def checkpoint(node: ApiNode) -> int:
    with node.runtime.uow_factory() as uow:
        peers = audit_witness.send_checkpoint(
            uow, node_id=node.node.node_id, at=node.runtime.clock.now(), actor="operator"
        )
        uow.commit()
    return peers


def tags(node: ApiNode) -> list[str]:
    with node.runtime.uow_factory() as uow:
        return [e.tag for e in uow.audit.entries()]


def rewrite_history(node: ApiNode, keep: int | None = None) -> None:
    """An insider with the database: drop entry 2 and recompute the whole chain after it
    (the append-only triggers dropped first), so the chain alone verifies; ``keep``: only
    that many entries remain."""
    engine = make_engine(node.runtime.settings.resolved_database_url)
    with engine.begin() as conn:
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).all()
        conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        conn.execute(sa.delete(audit_log))
        previous = None
        for row in (rows[:1] + rows[2:])[:keep]:
            entry = chain_entry(
                previous,
                at=row.at,
                actor=row.actor,
                tag=row.tag,
                subject=row.subject,
                details=row.details,
            )
            conn.execute(
                sa.insert(audit_log).values(
                    seq=entry.seq,
                    at=entry.at,
                    actor=entry.actor,
                    tag=entry.tag,
                    subject=entry.subject,
                    details=dict(entry.details),
                    prev_hash=entry.prev_hash,
                    hash=entry.hash,
                )
            )
            previous = entry
    engine.dispose()


def test_a_peer_keeps_the_checkpoint_and_exposes_a_rewritten_history(tmp_path: Path) -> None:
    runner = CliRunner()
    with api_nodes(tmp_path) as (vn, fr, _):
        vn.post(REQUESTS, "an", json=PRESERVATION)
        assert checkpoint(vn) == 1
        deliver(vn, fr)
        with fr.runtime.uow_factory() as uow:
            [held] = audit_witness.witnessed(uow, vn.node.node_id)
        assert "audit:checkpoint:witnessed" in tags(fr)
        vn_dir = vn.runtime.settings.data_dir
        fr_dir = fr.runtime.settings.data_dir
        out = tmp_path / "vn-witnessed.jsonl"
        where = ["--node", vn.node.node_id, "--out", str(out), "--data-dir", str(fr_dir)]
        exported = runner.invoke(app, ["audit", "witnessed", *where])
        assert exported.exit_code == 0, exported.output
        assert json.loads(out.read_text())["head_hash"] == held.head_hash

        good = runner.invoke(
            app, ["audit", "verify", "--witness", str(out), "--data-dir", str(vn_dir)]
        )
        assert good.exit_code == 0, good.output
        assert "1 witnessed checkpoints match" in good.output

        rewrite_history(vn)
        with vn.runtime.uow_factory() as uow:
            assert uow.audit.verify() is None  # the recomputed chain fools the chain check
            assert not verify_log(uow.audit.entries(), [("fr", held)]).ok
        bad = runner.invoke(
            app, ["audit", "verify", "--witness", str(out), "--json", "--data-dir", str(vn_dir)]
        )
        assert bad.exit_code == 1
        verdict = json.loads(bad.stdout)
        assert (verdict["ok"], verdict["witness"]) == (False, fr.node.node_id)
        assert verdict["finding"] in (Finding.REWRITTEN, Finding.CUT)
        assert verdict["first_bad_seq"] == 1  # no earlier checkpoint vouches for entry 1


def test_a_second_checkpoint_for_the_same_seq_with_another_hash_is_a_conflict(
    tmp_path: Path,
) -> None:
    with api_nodes(tmp_path) as (vn, fr, _):
        vn.post(REQUESTS, "an", json=PRESERVATION)
        checkpoint(vn)
        deliver(vn, fr)
        with fr.runtime.uow_factory() as uow:
            [held] = audit_witness.witnessed(uow, vn.node.node_id)
        rewrite_history(vn, keep=held.seq)  # a new history, as long as the witnessed one
        checkpoint(vn)
        deliver(vn, fr)
        assert tags(fr).count("audit:checkpoint:contradicted") == 1


def test_every_read_of_case_content_is_an_audit_entry_and_metadata_is_not(
    tmp_path: Path,
) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        pid = vn.post(REQUESTS, "an", json=PRESERVATION).json()["id"]
        before = tags(vn).count("request:content:read")
        assert vn.get(f"{REQUESTS}/{pid}", "an").status_code == 200
        assert vn.get(REQUESTS, "vn-auditor").status_code == 200  # a list: metadata only
        with vn.runtime.uow_factory() as uow:
            reads = [e for e in uow.audit.entries() if e.tag == "request:content:read"]
        assert len(reads) == before + 1
        read = reads[-1]
        assert (read.subject, read.details["channel"]) == (pid, "api")
        assert read.actor not in ("", vn.node.node_id)  # the officer, by id


def test_the_deadline_worker_sends_a_checkpoint_when_one_is_due_and_not_again(
    tmp_path: Path,
) -> None:
    with api_nodes(tmp_path) as (vn, fr, clock):
        vn.post(REQUESTS, "an", json=PRESERVATION)
        run(vn.runtime.deadlines.run_once())
        run(vn.runtime.deadlines.run_once())  # nothing new since: no second checkpoint
        assert tags(vn).count("audit:checkpoint:sent") == 1
        clock.advance(timedelta(hours=2))  # the period passed, but only if the log grew
        run(vn.runtime.deadlines.run_once())
        assert tags(vn).count("audit:checkpoint:sent") == 1
        vn.post(REQUESTS, "an", json=PRESERVATION)
        clock.advance(timedelta(hours=2))
        run(vn.runtime.deadlines.run_once())
        assert tags(vn).count("audit:checkpoint:sent") == 2
        deliver(vn, fr)
        with fr.runtime.uow_factory() as uow:
            assert len(audit_witness.witnessed(uow, vn.node.node_id)) == 2
