"""Exports for people who do not run this software: CASE/UCO JSON-LD, and an age package.

The age package is a directory a court opens with the plain ``age`` CLI::

    OUT/README.txt           how to open and check it
    OUT/SHA256SUMS           "<sha256>  <file name>" per file, for ``sha256sum -c``
    OUT/manifest.json        request reference, node, and per file: name, size, SHA-256, type
    OUT/<file name>.age      each file, encrypted to the recipients given on export

Each file is decrypted from the store and encrypted again to the export's recipients in one
stream (the plaintext crosses a pipe in memory, never the disk). Files are written as
``.part`` and renamed when complete, so an interrupted export leaves no file that looks
finished; SHA256SUMS and manifest.json are written last.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hanoi247.domain.errors import EvidenceRejected
from hanoi247.domain.evidence import CustodyAction, EvidenceItem, sha256sums
from hanoi247.services.evidence import EvidenceDesk, list_evidence, record_custody
from hanoi247.services.evidence_case import case_document

README = """This package holds evidence files encrypted with age (https://age-encryption.org).
To open and check them with the age identity whose recipient was given on export:

    for f in *.age; do age -d -i KEYFILE -o "${f%.age}" "$f"; done
    sha256sum -c SHA256SUMS

Every line of SHA256SUMS must end in ": OK". manifest.json lists the same files.
"""


def export_case(desk: EvidenceDesk, ref: str, *, actor: str) -> dict[str, Any]:
    """The CASE/UCO document of the request's accepted evidence and its whole custody."""
    request, items = list_evidence(desk, ref)
    accepted = [item for item in items if item.accepted]
    record_custody(desk, accepted, CustodyAction.EXPORTED, actor=actor, detail="case")
    with desk.uow() as uow:
        events = uow.evidence.custody_for_request(request.id)
    return case_document(request, accepted, events, node_id=desk.node_id)


def export_age(
    desk: EvidenceDesk,
    ref: str,
    directory: Path,
    *,
    recipients: Sequence[str],
    actor: str,
) -> list[EvidenceItem]:
    """Write the age package of the request's accepted evidence into ``directory``."""
    if not recipients:
        raise EvidenceRejected(
            "no_recipient", "give the age recipient (age1…) of whoever will open the package"
        )
    request, items = list_evidence(desk, ref)
    accepted = [item for item in items if item.accepted]
    if not accepted:
        raise EvidenceRejected("no_evidence", f"request {request.reference} has no evidence")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise EvidenceRejected(
            "export_not_empty", f"{directory} is not empty; give a new directory"
        )
    names = _unique_names(accepted)
    for item, name in zip(accepted, names, strict=True):
        final = directory / f"{name}.age"
        part = directory / f"{name}.age.part"
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as sink, desk.store.open(item.blob_id) as blob:
                desk.cipher.reseal(blob, sink, recipients, expected_sha256=item.sha256)
                sink.flush()
                os.fsync(sink.fileno())
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        part.rename(final)
    manifest = {
        "request": request.reference,
        "node": desk.node_id,
        "files": [
            {"file_name": name, "size": i.size, "sha256": i.sha256, "media_type": i.media_type}
            for i, name in zip(accepted, names, strict=True)
        ],
    }
    (directory / "README.txt").write_text(README, encoding="utf-8")
    (directory / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    pairs = [(i.sha256, name) for i, name in zip(accepted, names, strict=True)]
    (directory / "SHA256SUMS").write_text(sha256sums(pairs), encoding="utf-8")
    record_custody(desk, accepted, CustodyAction.EXPORTED, actor=actor, detail="age")
    return accepted


def _unique_names(items: Sequence[EvidenceItem]) -> list[str]:
    """File names as stored (already checked: no paths), made unique with a numeric prefix."""
    seen: set[str] = set()
    names = []
    for n, item in enumerate(items, start=1):
        name = item.file_name
        if name.casefold() in seen or name.casefold() in ("sha256sums", "manifest.json"):
            name = f"{n}-{name}"
        seen.add(name.casefold())
        names.append(name)
    return names
