"""The directory of contact points: the repository on the fake, SQLite and PostgreSQL, and
``hanoi247 directory set / list / verify`` run in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from at_rest_support import session_key_file
from hanoi247.bootstrap import database
from hanoi247.domain.directory import ContactKind, ContactPoint
from hanoi247.domain.errors import IntegrityError
from hanoi247.ports import UnitOfWork
from hanoi247.settings import Settings

AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
POC = ContactPoint(
    state="FR",
    kind=ContactKind.POINT_OF_CONTACT_24_7,
    agency="Fictional cybercrime office",
    phones=("+00 1 5550 0100", "+00 1 5550 0101"),
    emails=("duty@fr.example.net",),
    languages=("fr", "en"),
    channels=("hanoi247", "phone"),
    requires_dual_criminality=False,
    notes="Call before sending an emergency.",
    node_id="fr-oclctic",
    last_verified=date(2026, 3, 1),
    verified_by="admin",
)
CA = ContactPoint(
    state="FR",
    kind=ContactKind.CENTRAL_AUTHORITY,
    agency="Fictional ministry of justice",
    last_verified=date(2026, 6, 1),
    verified_by="admin",
)


def test_upsert_list_for_state_and_mark_verified(uow: Callable[[], UnitOfWork]) -> None:
    dz = ContactPoint(
        state="DZ",
        kind=ContactKind.POINT_OF_CONTACT_24_7,
        agency="Fictional DZ desk",
        last_verified=date(2026, 1, 1),
        verified_by="admin",
    )
    with uow() as u:
        assert u.contact_points.upsert(POC, at=AT) is True
        assert u.contact_points.upsert(CA, at=AT) is True
        assert u.contact_points.upsert(dz, at=AT) is True
        u.commit()
    with uow() as u:
        assert u.contact_points.list() == [dz, CA, POC]  # by State, then kind
        assert u.contact_points.for_state("fr") == [CA, POC]
        moved = ContactPoint(**{**_fields(POC), "agency": "Renamed office", "phones": ()})
        assert u.contact_points.upsert(moved, at=AT) is False
        verified = u.contact_points.mark_verified(
            "FR", ContactKind.POINT_OF_CONTACT_24_7, on=date(2026, 11, 29), by="lan", at=AT
        )
        u.commit()
    assert (verified.agency, verified.phones, verified.verified_by) == ("Renamed office", (), "lan")
    with uow() as u:
        [_, poc] = u.contact_points.for_state("FR")
        assert poc == verified
        assert poc.requires_dual_criminality is False
        assert not poc.is_stale(date(2026, 11, 29))


def test_nothing_survives_a_rollback_and_verifying_a_missing_entry_fails(
    uow: Callable[[], UnitOfWork],
) -> None:
    with uow() as u:
        u.contact_points.upsert(POC, at=AT)  # no commit
    with uow() as u:
        assert u.contact_points.list() == []
        with pytest.raises(IntegrityError):
            u.contact_points.mark_verified(
                "FR", ContactKind.CENTRAL_AUTHORITY, on=date(2026, 11, 29), by="lan", at=AT
            )
        with pytest.raises(ValueError):
            u.contact_points.upsert(POC, at=datetime(2026, 11, 29, 9, 0))  # naive


def _fields(point: ContactPoint) -> dict[str, object]:
    return {name: getattr(point, name) for name in point.__dataclass_fields__}


# --- CLI ---------------------------------------------------------------------------------


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hanoi247", "directory", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "HANOI247_SECRET_KEY_FILE": str(session_key_file()),
            **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},  # a worktree's source
            "HOME": str(data_dir),
            "HANOI247_ENV": "test",
        },
    )


def ok(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def test_cli_set_list_verify_each_audited(tmp_path: Path) -> None:
    assert ok(run(tmp_path, "list", "--json")) == {"contact_points": []}
    added = ok(
        run(
            tmp_path,
            "set", "fr", "--kind", "point_of_contact_24_7", "--agency", "Fictional office",
            "--phone", "+00 1 5550 0100", "--email", "duty@fr.example.net",
            "--languages", "fr,en", "--channels", "hanoi247,phone",
            "--dual-criminality", "no", "--node-id", "fr-oclctic",
            "--verified-on", "2025-01-01", "--by", "admin",
        )
    )  # fmt: skip
    assert (added["state"], added["article"], added["article_confirmed"]) == (
        "FR",
        "Art. 41",
        False,
    )
    assert added["stale"] is True
    ok(
        run(
            tmp_path,
            "set", "DZ", "--kind", "central_authority", "--agency", "Fictional ministry",
            "--languages", "ar,fr", "--dual-criminality", "unknown",
        )
    )  # fmt: skip

    listed = ok(run(tmp_path, "list", "--json"))["contact_points"]
    assert isinstance(listed, list)
    assert [(p["state"], p["kind"], p["stale"]) for p in listed] == [
        ("DZ", "central_authority", False),
        ("FR", "point_of_contact_24_7", True),
    ]
    assert listed[1]["requires_dual_criminality"] is False
    assert listed[0]["requires_dual_criminality"] is None
    text = run(tmp_path, "list")
    assert text.returncode == 0
    assert "STALE" in text.stdout

    verified = ok(run(tmp_path, "verify", "FR", "--kind", "point_of_contact_24_7", "--by", "lan"))
    assert verified["last_verified"] == datetime.now(UTC).date().isoformat()
    assert verified["stale"] is False
    assert "STALE" not in run(tmp_path, "list").stdout

    missing = run(tmp_path, "verify", "VN")
    assert missing.returncode == 2
    assert missing.stderr.startswith("hanoi247: error: no point_of_contact_24_7 for VN")
    bad = run(tmp_path, "set", "FR", "--agency", "X", "--dual-criminality", "maybe")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1

    with database(
        Settings(data_dir=tmp_path, environment="test", secret_key_file=session_key_file()),
        create=False,
    ) as db:
        assert db is not None
        with db.uow_factory() as u:
            entries = [(e.tag, e.subject, e.actor) for e in u.audit.entries()]
    assert entries[-3:] == [
        ("directory:contact:added", "FR:point_of_contact_24_7", "admin"),
        ("directory:contact:added", "DZ:central_authority", "operator"),
        ("directory:contact:verified", "FR:point_of_contact_24_7", "lan"),
    ]
