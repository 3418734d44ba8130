"""The evidence desk for one command: which store, which cipher (``bootstrap_evidence.py``
and so ``bootstrap.py`` re-export these).

Apart from ``bootstrap_evidence.py`` so that ``hanoi247 evidence add`` builds its desk
without importing the composition root's web, federation and notification adapters: this
module imports only the store, the cipher and the database it opens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hanoi247.adapters.clock import SystemClock
from hanoi247.adapters.federation.node_file import KEYS_DIR, PREVIOUS_KEYS_DIR, read_identity
from hanoi247.domain.errors import ConfigurationError
from hanoi247.ports import Clock, EvidenceStore, UnitOfWork
from hanoi247.services.evidence import EvidenceDesk
from hanoi247.settings import Settings


def evidence_store(settings: Settings) -> EvidenceStore:
    """S3 when ``HANOI247_EVIDENCE_S3_ENDPOINT`` is set, else ``DATA_DIR/evidence``."""
    if settings.evidence_s3_endpoint:
        from hanoi247.adapters.storage.s3 import S3EvidenceStore, S3Location

        if not settings.evidence_s3_access_key or not settings.evidence_s3_secret_key:
            raise ConfigurationError(
                "HANOI247_EVIDENCE_S3_ENDPOINT is set but its ACCESS_KEY or SECRET_KEY is not; "
                "set HANOI247_EVIDENCE_S3_ACCESS_KEY and HANOI247_EVIDENCE_S3_SECRET_KEY"
            )
        return S3EvidenceStore(
            S3Location(
                endpoint_url=settings.evidence_s3_endpoint,
                bucket=settings.evidence_s3_bucket,
                access_key=settings.evidence_s3_access_key,
                secret_key=settings.evidence_s3_secret_key,
                region=settings.evidence_s3_region,
            )
        )
    from hanoi247.adapters.storage.filesystem import FilesystemEvidenceStore

    store = FilesystemEvidenceStore(settings.data_dir / "evidence")
    store.sweep_incoming()  # .part files a crash left behind: ciphertext, never complete
    return store


def evidence_key_dirs(data_dir: Path) -> list[Path]:
    """Where the node's age identities are: keys/, then keys/previous/<n>/ newest first."""
    keys = data_dir / KEYS_DIR
    previous = keys / PREVIOUS_KEYS_DIR
    older = (
        sorted((p for p in previous.iterdir() if p.is_dir()), reverse=True)
        if previous.is_dir()
        else []
    )
    return [keys, *older]


def evidence_desk(
    settings: Settings,
    uow_factory: Callable[[], UnitOfWork],
    *,
    node_id: str,
    clock: Clock | None = None,
    store: EvidenceStore | None = None,
) -> EvidenceDesk:
    from hanoi247.adapters.crypto.age_files import AgeEvidenceCipher
    from hanoi247.adapters.crypto.key_files import KeyFileSeal
    from hanoi247.adapters.crypto.secret_key import secret_keys

    return EvidenceDesk(
        uow=uow_factory,
        store=store or evidence_store(settings),
        cipher=AgeEvidenceCipher(
            evidence_key_dirs(settings.data_dir),
            seal=KeyFileSeal.of(secret_keys(settings)),  # the identity files are sealed
        ),
        clock=clock or SystemClock(),
        node_id=node_id,
    )


@contextmanager
def node_desk(settings: Settings) -> Iterator[EvidenceDesk | None]:
    """The desk of the node in ``settings.data_dir`` over its database, opened once (None
    when the node has no database yet)."""
    from hanoi247.adapters.db.database import database

    identity = read_identity(settings.data_dir)
    with database(settings, create=False) as db:
        yield (
            None
            if db is None
            else evidence_desk(settings, db.uow_factory, node_id=identity.node_id)
        )
