"""The sentence the case page shows once an action is done: "Request sent to France.",
not "Done: Send." — each action its own sentence, naming the peer State where the
action sends it something."""

from __future__ import annotations

from hanoi247.domain.lifecycle import Action
from hanoi247.entrypoints import i18n

# The English sentences (the fallback when a translation's placeholder is broken).
ENGLISH: dict[str, str] = {
    Action.SEND: "Request sent to {state}.",
    Action.WITHDRAW: "Request withdrawn; {state} is being told.",
    Action.ACKNOWLEDGE: "Receipt acknowledged to {state}.",
    Action.ASK_CLARIFICATION: "Question sent to {state}.",
    Action.ANSWER_CLARIFICATION: "Answer sent to {state}.",
    Action.CONFIRM_PRESERVATION: "Preservation confirmed to {state}.",
    Action.REPORT_CANNOT_ENSURE: "{state} is being told that preservation cannot be ensured.",
    Action.EXTEND_PRESERVATION: "Preservation extended; {state} is being told.",
    Action.REFUSE: "Refusal sent to {state}.",
    Action.EXECUTE_PARTIALLY: "Partial execution reported to {state}.",
    Action.EXECUTE: "Execution reported to {state}.",
    Action.CLOSE: "Case closed.",
    "ask_consent": "Request for consent sent to {state}.",
    "forward": "Request forwarded.",
    "answer_consent": "Answer on consent sent to {state}.",
}


def _translated(action: str, tr: i18n.Translator) -> str:
    # Literal calls, one per sentence, so that the extractor finds every one.
    sentences = {
        Action.SEND: tr.pgettext("done", "Request sent to {state}."),
        Action.WITHDRAW: tr.pgettext("done", "Request withdrawn; {state} is being told."),
        Action.ACKNOWLEDGE: tr.pgettext("done", "Receipt acknowledged to {state}."),
        Action.ASK_CLARIFICATION: tr.pgettext("done", "Question sent to {state}."),
        Action.ANSWER_CLARIFICATION: tr.pgettext("done", "Answer sent to {state}."),
        Action.CONFIRM_PRESERVATION: tr.pgettext("done", "Preservation confirmed to {state}."),
        Action.REPORT_CANNOT_ENSURE: tr.pgettext(
            "done", "{state} is being told that preservation cannot be ensured."
        ),
        Action.EXTEND_PRESERVATION: tr.pgettext(
            "done", "Preservation extended; {state} is being told."
        ),
        Action.REFUSE: tr.pgettext("done", "Refusal sent to {state}."),
        Action.EXECUTE_PARTIALLY: tr.pgettext("done", "Partial execution reported to {state}."),
        Action.EXECUTE: tr.pgettext("done", "Execution reported to {state}."),
        Action.CLOSE: tr.pgettext("done", "Case closed."),
        "ask_consent": tr.pgettext("done", "Request for consent sent to {state}."),
        "forward": tr.pgettext("done", "Request forwarded."),
        "answer_consent": tr.pgettext("done", "Answer on consent sent to {state}."),
    }
    return sentences[action]


def done_sentence(action: str, state: str, tr: i18n.Translator) -> str:
    """The sentence for a done ``action``, ``state`` the peer's name in the viewer's
    language; an action without a sentence of its own gets none (the caller shows nothing)."""
    if action not in ENGLISH:
        return ""
    return i18n.fill(_translated(action, tr), ENGLISH[action], state=state)
