"""Labels of codes on the pages: ``label("role", user.role)`` in a template.

Request statuses, urgencies, outbox statuses and message types come from ``entrypoints.i18n``
(their English text is in ``locale/vocabulary.toml``); the codes only the web desk shows
(roles, peer statuses, positions on the roster) are translated here, each msgid a literal
so the extractor sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from hanoi247.domain.accounts import Position, Role
from hanoi247.domain.federation import PeerStatus
from hanoi247.entrypoints import i18n

Label = Callable[[str, i18n.Translator], str]


def role_label(role: str, tr: i18n.Translator) -> str:
    labels: dict[str, str] = {
        Role.OFFICER: tr.pgettext("role", "Officer"),
        Role.SUPERVISOR: tr.pgettext("role", "Supervisor"),
        Role.CENTRAL_AUTHORITY: tr.pgettext("role", "Central authority"),
        Role.AUDITOR: tr.pgettext("role", "Auditor"),
        Role.ADMINISTRATOR: tr.pgettext("role", "Administrator"),
    }
    return labels.get(role, role)


def peer_status_label(status: str, tr: i18n.Translator) -> str:
    labels: dict[str, str] = {
        PeerStatus.ACTIVE: tr.pgettext("peer_status", "Active"),
        PeerStatus.SUSPENDED: tr.pgettext("peer_status", "Suspended"),
    }
    return labels.get(status, status)


def position_label(position: str, tr: i18n.Translator) -> str:
    labels: dict[str, str] = {
        Position.PRIMARY: tr.pgettext("position", "Primary"),
        Position.BACKUP: tr.pgettext("position", "Backup"),
    }
    return labels.get(position, position)


def kind_label(kind: str, tr: i18n.Translator) -> str:
    return i18n.label_kind(kind, tr)


LABELS: Mapping[str, Label] = MappingProxyType(
    {
        "role": role_label,
        "peer_status": peer_status_label,
        "position": position_label,
        "status": i18n.label_status,
        "urgency": i18n.label_urgency,
        "outbox_status": i18n.label_outbox_status,
        "message_type": i18n.label_message_type,
        "custody_action": i18n.label_custody_action,
        "evidence_status": i18n.label_evidence_status,
        "kind": kind_label,
        "error_code": i18n.label_error_code,
        "instrument": i18n.label_instrument,
    }
)
