"""Whole-node backups: database, keys, identity and evidence, in one age-encrypted tar.

``make_backup`` takes a consistent copy of the SQLite database (the online backup API,
safe while the node runs), adds every other file of the data directory (``keys/`` with
the rotated keys, ``node.toml``, ``evidence/`` when it exists) and a manifest with the
SHA-256 of each file, and seals the tar with age (``adapters/crypto/archive.py``).
``restore_backup`` opens it, checks every file against the manifest and writes the node
into an EMPTY directory (files ``0600``, directories ``0700``). Nothing of a damaged or
foreign archive is written: the checks run before the first file lands.

PostgreSQL nodes back the database up with ``pg_dump`` (docs/operations.md); this module
refuses them rather than produce a backup without the data.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hanoi247.adapters.crypto import archive
from hanoi247.adapters.db.engine import SQLITE_FILE_NAME
from hanoi247.domain.errors import ConfigurationError, IntegrityError

MANIFEST = "hanoi247-backup.json"
FORMAT = 1
_SKIPPED = {SQLITE_FILE_NAME + s for s in ("-wal", "-shm", "-journal")}


@dataclass(frozen=True, slots=True)
class BackupSummary:
    files: int
    plain_bytes: int
    sha256: dict[str, str]


def _collect(data_dir: Path) -> dict[str, bytes]:
    database = data_dir / SQLITE_FILE_NAME
    if not database.exists():
        raise ConfigurationError(
            f"{data_dir} has no SQLite database; a PostgreSQL node backs up its database "
            "with pg_dump (docs/operations.md, Backups) and its keys with this command"
        )
    files: dict[str, bytes] = {}
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir).as_posix()
        if path.is_symlink():
            raise ConfigurationError(f"{path} is a symbolic link; backups hold plain files only")
        if not path.is_file() or relative in _SKIPPED or relative == SQLITE_FILE_NAME:
            continue
        files[relative] = path.read_bytes()
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / SQLITE_FILE_NAME
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        files[SQLITE_FILE_NAME] = copy.read_bytes()
    return files


def _tar(files: dict[str, bytes], manifest: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in [(MANIFEST, manifest), *sorted(files.items())]:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_backup(
    data_dir: Path, *, node_id: str, recipient: str | None, passphrase: str | None
) -> tuple[bytes, BackupSummary]:
    """The sealed archive of the node in ``data_dir``; with a passphrase it is opened again
    and compared before it is returned (a verified round trip)."""
    files = _collect(data_dir)
    sha = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    manifest = json.dumps({"format": FORMAT, "node_id": node_id, "files": sha}, sort_keys=True)
    plain = _tar(files, manifest.encode("utf-8"))
    sealed = archive.seal(plain, recipient=recipient, passphrase=passphrase)
    if passphrase is not None and _read(archive.unseal(sealed, passphrase=passphrase)) != files:
        raise IntegrityError("the backup did not read back as written; nothing was kept")
    return sealed, BackupSummary(len(files), len(plain), sha)


def _read(plain: bytes) -> dict[str, bytes]:
    """The files of an opened archive, each checked against the manifest."""
    try:
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
            members = {}
            for member in tar.getmembers():
                parts = PurePosixPath(member.name)
                if not member.isfile() or parts.is_absolute() or ".." in parts.parts:
                    raise IntegrityError(f"the backup holds an unsafe entry {member.name!r}")
                handle = tar.extractfile(member)
                members[member.name] = handle.read() if handle else b""
    except tarfile.TarError:
        raise IntegrityError("the backup is not a hanoi247 archive") from None
    try:
        manifest = json.loads(members.pop(MANIFEST))
    except (KeyError, ValueError):
        raise IntegrityError("the backup has no hanoi247 manifest") from None
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if manifest.get("format") != FORMAT or not isinstance(listed, dict):
        raise IntegrityError("the backup's manifest is of an unknown format")
    if set(listed) != set(members):
        raise IntegrityError("the backup's files do not match its manifest")
    for entry, data in members.items():
        if hashlib.sha256(data).hexdigest() != listed[entry]:
            raise IntegrityError(f"{entry} in the backup does not match its manifest hash")
    return members


def restore_backup(
    sealed: bytes, target: Path, *, identity: str | None, passphrase: str | None
) -> int:
    """Write the node of ``sealed`` into ``target`` (missing or empty); returns the files."""
    if target.exists() and any(target.iterdir()):
        raise ConfigurationError(f"{target} is not empty; restore into a new data directory")
    files = _read(archive.unseal(sealed, identity=identity, passphrase=passphrase))
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.chmod(0o700)
    for name, data in sorted(files.items()):
        path = target / name
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o600)
    return len(files)
