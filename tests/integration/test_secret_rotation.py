"""``hanoi247 secrets init`` and ``secrets rotate``: a new key, every sealed value
re-sealed under it in one audited transaction, the old key no longer needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hanoi247.adapters.crypto.at_rest import FieldCipher
from hanoi247.adapters.crypto.key_files import KeyFileSeal
from hanoi247.adapters.crypto.secret_key import read_key_file
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.adapters.federation.node import load_local_node
from hanoi247.bootstrap import open_database
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import ConfigurationError
from hanoi247.entrypoints.cli import app
from hanoi247.settings import Settings
from node_support import node_with_urgent_request

FACTS = "MARKER-rotation-facts"


def cli(key_file: Path, *args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(
        app, list(args), env={"HANOI247_SECRET_KEY_FILE": str(key_file), "HANOI247_ENV": "test"}
    )
    return done.exit_code, done.stdout, done.stderr


def node_with_content(tmp_path: Path) -> tuple[Path, Path, Settings]:
    key_file = tmp_path / "keys" / "node.key"
    key_file.parent.mkdir()
    code, out, err = cli(key_file, "secrets", "init", "--key-file", str(key_file))
    assert code == 0, err
    assert json.loads(out)["kid"] == read_key_file(key_file)[0].kid
    data_dir = tmp_path / "node"
    settings = Settings(data_dir=data_dir, environment="test", secret_key_file=key_file)
    node_with_urgent_request(settings, FACTS)
    return data_dir, key_file, settings


def kids_in_requests(data_dir: Path) -> set[str]:
    engine = make_engine(f"sqlite:///{data_dir / 'hanoi247.sqlite3'}")
    try:
        with engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT elements FROM requests")).scalars()
            return {json.loads(v).split(":")[2] for v in stored}
    finally:
        engine.dispose()


def test_rotate_reseals_every_value_under_the_new_key_and_audits_it(tmp_path: Path) -> None:
    data_dir, key_file, settings = node_with_content(tmp_path)
    (old,) = read_key_file(key_file)
    assert kids_in_requests(data_dir) == {old.kid}

    code, out, err = cli(key_file, "secrets", "rotate", "--data-dir", str(data_dir), "--by", "ops")
    assert code == 0, err
    done = json.loads(out)
    (new,) = read_key_file(key_file)  # the old key is gone from the file
    assert done["old_kids"] == [old.kid]
    assert done["new_kid"] == new.kid != old.kid
    assert done["values"] >= 1
    assert kids_in_requests(data_dir) == {new.kid}
    assert done["key_files"] == 5  # signing, encryption, webhook, evidence (age), Web Push (VAPID)
    for path in (data_dir / "keys").iterdir():
        assert KeyFileSeal.of([new]).kid_of(path.read_bytes()) == new.kid, path.name
    with pytest.raises(ConfigurationError, match=new.kid):
        load_local_node(data_dir, seal=KeyFileSeal.of([old]))
    assert load_local_node(data_dir, seal=KeyFileSeal.of([new])).identity.node_id

    db = open_database(settings, create=False)
    assert db is not None
    try:
        with db.uow_factory() as uow:
            assert uow.requests.list()[0].elements["facts"] == FACTS
            entry = uow.audit.entries()[-1]
            assert entry.tag == AuditTag.NODE_SECRET_KEY_ROTATED
            assert entry.actor == "ops"
            assert entry.details["old_kids"] == old.kid
            assert entry.details["new_kid"] == new.kid
            assert uow.audit.verify() is None
    finally:
        db.close()
    engine = make_engine(f"sqlite:///{data_dir / 'hanoi247.sqlite3'}")
    try:
        with (
            make_uow_factory(engine, cipher=FieldCipher([old]))() as uow,
            pytest.raises(ConfigurationError, match=new.kid),
        ):
            uow.requests.list()
    finally:
        engine.dispose()


def test_rotate_without_a_key_file_says_what_it_needs(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app,
        ["secrets", "rotate", "--data-dir", str(tmp_path)],
        env={"HANOI247_ENV": "test", "HANOI247_SECRET_KEY_FILE": None},
    )
    assert done.exit_code == 2
    assert "HANOI247_SECRET_KEY_FILE" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_init_refuses_a_key_file_inside_the_data_directory(tmp_path: Path) -> None:
    inside = tmp_path / "node" / "secret.key"
    inside.parent.mkdir()
    code, _, err = cli(inside, "secrets", "init", "--data-dir", str(tmp_path / "node"))
    assert code == 2
    assert "inside the data directory" in err
    assert not inside.exists()
