"""Languages and identifier types read by their label everywhere, never their code
(issue 12): walk every page of the desk reachable from its links, as officer (VN and FR),
supervisor and administrator (FR), in English and Arabic, on two desks holding a request
sent through the composer and one drafted with a language and an identifier of every type,
and a directory entry with its languages and channels;
no text a person reads is a bare language code ("en", "fr" …) or, in Arabic, a bare
identifier type code ("ip", "email" … which in English may be plain words)."""

from __future__ import annotations

import html.parser
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import pytest
from case_desk import Pair, make_pair
from fastapi.testclient import TestClient

from hanoi247.domain.accounts import Role
from hanoi247.domain.commands import DraftRequest, SendRequest
from hanoi247.domain.directory import ContactKind, ContactPoint
from hanoi247.domain.requests import IDENTIFIER_TYPES
from hanoi247.domain.states import load_states
from hanoi247.entrypoints import i18n
from workflow_harness import PRESERVATION

LANGUAGE_CODES = frozenset(
    {code.lower() for state in load_states().values() for code in state.languages}
    | set(i18n.LANGUAGES)
)
SKIPPED = ("/static", "/api", "/logout", "/federation", "/metrics", "/alerts")
LIMIT = 80  # pages per person: the walk ends even if links multiply
IDENTIFIERS = [
    {"type": "ip", "value": "203.0.113.7", "timestamp": "2026-02-28T21:14:03+07:00"},
    {"type": "email", "value": "attacker@example.org"},
    {"type": "account", "value": "darkfox", "service": "Example Mail"},
    {"type": "domain", "value": "example.org"},
    {"type": "url", "value": "https://example.org/panel"},
    {"type": "phone", "value": "+33 6 00 00 00 00"},
    {"type": "wallet", "value": "bc1qexampleexampleexample"},
]


FRANCE = ContactPoint(
    state="FR",
    kind=ContactKind.POINT_OF_CONTACT_24_7,
    agency="OCLCTIC (test)",
    last_verified=date(2026, 3, 1),
    verified_by="test",
    phones=("+33 1 00 00 00 00",),
    emails=("oclctic@example.fr",),
    languages=("fr", "en"),
    channels=("hanoi247", "phone", "email"),
)


class _Page(html.parser.HTMLParser):
    """The texts a person reads (text nodes, attributes read aloud) and the links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        self.texts += [v for k, v in attrs if k in ("aria-label", "title", "alt") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def bare_codes(texts: list[str], lang: str) -> list[str]:
    """Texts that are only codes ("en", "fr, ar", "ip")."""
    codes = LANGUAGE_CODES | (set(IDENTIFIER_TYPES) if lang != "en" else set())
    found = []
    for text in texts:
        words = [w.strip() for w in re.split(r"[,;·/()]", text) if w.strip()]
        if words and all(w in codes for w in words):
            found.append(text)
    return found


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Pair]:
    pair = make_pair(tmp_path)
    pair.send_complete()
    runtime = pair.vn.node.runtime
    with runtime.uow_factory() as uow:
        officer = uow.users.by_username("lan")
    assert officer is not None
    payload = {**PRESERVATION, "language": "fr", "identifiers": IDENTIFIERS}
    payload["date_range"] = {"from": "2026-02-27", "to": "2026-03-01"}
    draft = runtime.handle(DraftRequest(by=officer.id, payload=payload, instrument="uncc"))
    runtime.handle(SendRequest(by=officer.id, request_id=draft.request_id))
    pair.deliver()
    for desk in (pair.vn, pair.fr):  # the directory: languages accepted, channels
        with desk.node.runtime.uow_factory() as uow:
            uow.contact_points.upsert(FRANCE, at=pair.clock.now())
            uow.commit()
    yield pair
    pair.vn.node.close()
    pair.fr.node.close()


def _walk(client: TestClient, start: str, lang: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    seen: set[str] = set()
    todo = [start]
    while todo and len(seen) < LIMIT:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        answer = client.get(path, headers={"accept-language": lang})
        if answer.status_code != 200 or "text/html" not in answer.headers["content-type"]:
            continue
        page = _Page()
        page.feed(answer.text)
        if bad := bare_codes(page.texts, lang):
            found[path] = bad
        for link in page.links:
            target = urlparse(link)
            if target.netloc or not target.path.startswith("/"):
                continue
            if target.path.startswith(SKIPPED) or "." in target.path.rsplit("/", 1)[-1]:
                continue
            todo.append(target.path)
    assert len(seen) >= 5, seen  # the walk went through the desk
    return found


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_no_page_shows_a_language_or_identifier_type_by_its_code(seeded: Pair, lang: str) -> None:
    pair = seeded
    people: dict[str, tuple[TestClient, str]] = {
        "VN officer": (pair.vn_client, "/inbox"),
        "FR officer": (pair.fr_client, "/inbox"),
    }
    for role, start in ((Role.SUPERVISOR, "/inbox"), (Role.ADMINISTRATOR, "/admin")):
        user = pair.fr.add_user(f"fr-{role.value}", role)
        client = pair.fr.client()
        assert pair.fr.sign_in(client, user).status_code == 303
        people[f"FR {role.value}"] = (client, start)
    found = {
        f"{who} {path}": bad
        for who, (client, start) in people.items()
        for path, bad in _walk(client, start, lang).items()
    }
    assert not found, found
