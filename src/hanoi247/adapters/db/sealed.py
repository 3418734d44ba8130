"""Which database columns are encrypted at rest, and how each row names its values.

The cipher (``adapters/crypto/at_rest.FieldCipher``) rides on the session:
``make_uow_factory(engine, cipher=...)`` puts it in ``Session.info``, and the row
functions of the repositories seal on write and open on read. A JSON column holds the
sealed value as a JSON string, a text column as text, so no column changes type.

Each value is bound (AES-GCM additional data) to its table, column and row key below:
a value copied to another row or column fails its check instead of being read there.
What is *not* sealed, and why (the inbox sorts and filters on it, or it names no case
content), is listed in docs/operations.md, "Secrets at rest".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, TableClause, and_, select, update
from sqlalchemy.orm import Session

from hanoi247.adapters.crypto.at_rest import FieldCipher, is_sealed
from hanoi247.adapters.db.schema.accounts import users
from hanoi247.adapters.db.schema.evidence import evidence_items, evidence_uploads
from hanoi247.adapters.db.schema.federation import inbox, outbox
from hanoi247.adapters.db.schema.push import push_subscriptions
from hanoi247.adapters.db.schema.workflow import request_events, requests
from hanoi247.domain.errors import ConfigurationError

CIPHER_KEY = "hanoi247.field_cipher"


@dataclass(frozen=True, slots=True)
class SealedTable:
    table: Table | TableClause
    key_columns: tuple[str, ...]  # the row's name in the additional data: "a/b"
    json_columns: tuple[str, ...]
    text_columns: tuple[str, ...]


REQUEST_JSON = (
    "elements",
    "handling",
    "basis",
    "other_basis",
    "links",
    "phone_contacts",
    "results",
)

SEALED: tuple[SealedTable, ...] = (
    SealedTable(users, ("id",), (), ("totp_secret",)),
    SealedTable(requests, ("id",), REQUEST_JSON, ()),
    SealedTable(request_events, ("request_id", "seq"), (), ("note",)),
    SealedTable(outbox, ("message_id",), ("body",), ()),
    SealedTable(inbox, ("origin_node", "message_id"), ("body",), ()),
    SealedTable(push_subscriptions, ("id",), (), ("endpoint", "p256dh", "auth")),
    SealedTable(evidence_items, ("item_id",), (), ("file_name",)),
    SealedTable(evidence_uploads, ("upload_id",), (), ("file_name",)),
)


def cipher_of(session: Session | Connection) -> FieldCipher:
    cipher = session.info.get(CIPHER_KEY)
    if not isinstance(cipher, FieldCipher):
        raise ConfigurationError("this database session was opened without the node's secret key")
    return cipher


def row_key(*parts: object) -> str:
    return "/".join(str(p) for p in parts)


def seal_json(session: Session, value: Any, *, table: Table, column: str, row: str) -> str | None:
    """A JSON value sealed; ``None`` stays ``None`` (an absent basis is not content)."""
    if value is None:
        return None
    return cipher_of(session).seal_json(value, table=table.name, column=column, row=row)


def open_json(session: Session, stored: Any, *, table: Table, column: str, row: str) -> Any:
    if stored is None:
        return None
    return cipher_of(session).open_json(stored, table=table.name, column=column, row=row)


def seal_text(session: Session, text: str | None, *, table: Table, column: str, row: str) -> Any:
    if text is None:
        return None
    return cipher_of(session).seal_text(text, table=table.name, column=column, row=row)


def open_text(session: Session, stored: str | None, *, table: Table, column: str, row: str) -> Any:
    if stored is None:
        return None
    return cipher_of(session).open_text(stored, table=table.name, column=column, row=row)


def reseal_all(
    connection: Connection,
    *,
    new: FieldCipher | None,
    old: FieldCipher | None,
    tables: Sequence[SealedTable] = SEALED,
) -> int:
    """Re-seal every sealed value under ``new``; seal clear ones (``old`` None: migration
    0012); or open them all to clear text (``new`` None: its downgrade).

    Runs in the caller's transaction; returns the number of values written. A value
    already sealed under ``new``'s key is left alone, so a run cut short can be rerun.
    """
    written = 0
    for spec in tables:
        name = spec.table.name
        for key, row, values in _rows(connection, spec):
            changes: dict[str, Any] = {}
            for column, stored in values.items():
                if stored is None:
                    continue
                is_json = column in spec.json_columns
                if is_sealed(stored):
                    if new is not None and new.kid_of(str(stored)) == new.kid:
                        continue
                    if old is None:
                        raise ConfigurationError(
                            f"{name}.{column} of row {row} is sealed; give the node's secret key"
                        )
                    clear: Any = (
                        old.open_json(stored, table=name, column=column, row=row)
                        if is_json
                        else old.open_text(stored, table=name, column=column, row=row)
                    )
                elif new is None:
                    continue
                else:
                    clear = stored
                if new is None:
                    changes[column] = clear
                elif is_json:
                    changes[column] = new.seal_json(clear, table=name, column=column, row=row)
                else:
                    changes[column] = new.seal_text(str(clear), table=name, column=column, row=row)
            if changes:
                condition = and_(
                    *(spec.table.c[k] == v for k, v in zip(spec.key_columns, key, strict=True))
                )
                connection.execute(update(spec.table).where(condition).values(**changes))
                written += len(changes)
    return written


def _rows(
    connection: Connection, spec: SealedTable
) -> Iterator[tuple[tuple[Any, ...], str, dict[str, Any]]]:
    columns = spec.json_columns + spec.text_columns
    keys = [spec.table.c[k] for k in spec.key_columns]
    query = select(*keys, *(spec.table.c[c] for c in columns)).order_by(*keys)
    for found in connection.execute(query).all():
        mapping = found._mapping
        key = tuple(mapping[k] for k in spec.key_columns)
        yield key, row_key(*key), {c: mapping[c] for c in columns}
