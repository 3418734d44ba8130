"""Labels of the codes only the printed request shows: deadline kinds and statuses, the
timeline entries that are not lifecycle actions, the types of another legal basis.

Each msgid is a literal so ``scripts/extract_messages.py`` sees it; lifecycle actions and
statuses come from ``hanoi247.entrypoints.i18n`` (``locale/vocabulary.toml``).
"""

from __future__ import annotations

from hanoi247.domain.basis import OtherBasisType
from hanoi247.domain.lifecycle import Action
from hanoi247.domain.schedule import DeadlineKind, DeadlineStatus
from hanoi247.domain.timeline import Record
from hanoi247.entrypoints import i18n


def deadline_kind_label(kind: str, tr: i18n.Translator) -> str:
    labels: dict[str, str] = {
        DeadlineKind.ACKNOWLEDGEMENT: tr.pgettext("deadline", "Acknowledgement"),
        DeadlineKind.PRESERVATION_WARNING: tr.pgettext(
            "deadline", "Warning before preservation expires"
        ),
        DeadlineKind.PRESERVATION_EXPIRY: tr.pgettext("deadline", "End of preservation"),
        DeadlineKind.EMERGENCY_RESPONSE: tr.pgettext("deadline", "Answer to the emergency"),
        DeadlineKind.PRESERVATION_CONFIRMATION: tr.pgettext(
            "deadline", "Confirmation that the data are preserved"
        ),
        DeadlineKind.FOLLOW_UP_MLA: tr.pgettext(
            "deadline", "Mutual legal assistance request to follow"
        ),
    }
    return labels.get(kind, kind)


def deadline_status_label(status: str, tr: i18n.Translator) -> str:
    labels: dict[str, str] = {
        DeadlineStatus.OPEN: tr.pgettext("deadline_status", "Open"),
        DeadlineStatus.MET: tr.pgettext("deadline_status", "Met"),
        DeadlineStatus.MISSED: tr.pgettext("deadline_status", "Missed"),
        DeadlineStatus.CANCELLED: tr.pgettext("deadline_status", "Cancelled"),
    }
    return labels.get(status, status)


def timeline_action_label(action: str, tr: i18n.Translator) -> str:
    """A lifecycle action (vocabulary) or a ``Record`` entry of the timeline."""
    if action in {a.value for a in Action}:
        return i18n.label_action(action, tr)
    labels: dict[str, str] = {
        Record.DRAFT: tr.pgettext("record", "Drafted"),
        Record.UPDATE_DRAFT: tr.pgettext("record", "Draft changed"),
        Record.RECORD_OTHER_BASIS: tr.pgettext("record", "Other legal basis recorded"),
        Record.LOG_PHONE_CONTACT: tr.pgettext("record", "Telephone contact logged"),
        Record.RECORD_CONSENT: tr.pgettext("record", "Consent recorded"),
        Record.ASK_CONSENT: tr.pgettext("record", "Consent to an onward transfer asked"),
        Record.GRANT_CONSENT: tr.pgettext("record", "Consent to an onward transfer granted"),
        Record.REFUSE_CONSENT: tr.pgettext("record", "Consent to an onward transfer refused"),
        "answer_consent": tr.pgettext("record", "Answer on an onward transfer sent"),
        Record.FORWARD: tr.pgettext("record", "Forwarded"),
        Record.LINK_FOLLOW_UP: tr.pgettext("record", "Follow-up request linked"),
        Record.LINK_EXTENSION: tr.pgettext("record", "Extension linked"),
        Record.NOT_APPLIED: tr.pgettext("record", "Not applied: the request was closed"),
    }
    return labels.get(action, action)


def basis_type_label(kind: str, tr: i18n.Translator) -> str:
    labels: dict[str, str] = {
        OtherBasisType.BILATERAL_TREATY: tr.pgettext("basis", "Bilateral treaty"),
        OtherBasisType.RECIPROCITY: tr.pgettext("basis", "Reciprocity"),
    }
    return labels.get(kind, kind)


def identifier_type_label(code: str, tr: i18n.Translator) -> str:
    """``requests.IDENTIFIER_TYPES``, as the officer reads them."""
    labels: dict[str, str] = {
        "ip": tr.pgettext("identifier_type", "IP address"),
        "account": tr.pgettext("identifier_type", "Account"),
        "domain": tr.pgettext("identifier_type", "Domain name"),
        "url": tr.pgettext("identifier_type", "URL"),
        "phone": tr.pgettext("identifier_type", "Telephone number"),
        "email": tr.pgettext("identifier_type", "E-mail address"),
        "wallet": tr.pgettext("identifier_type", "Cryptocurrency wallet"),
    }
    return labels.get(code, code)
