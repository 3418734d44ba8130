"""Helpers for the web desk tests: a real in-process node (SQLite, keys, ``create_app``),
driven with FastAPI's TestClient, a FakeClock and real TOTP codes (pyotp).

    desk = make_desk(tmp_path)                      # node VN, clock at T0
    lan = desk.add_user("lan", Role.SUPERVISOR)     # password PASSWORD, TOTP secret
    client = desk.client()
    desk.sign_in(client, lan)                       # GET /login, POST with a fresh code
"""

from __future__ import annotations

import html.parser
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from fakes import FakeClock
from federation_helpers import InProcessNode, make_node
from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.domain.accounts import Role
from hanoi247.entrypoints import i18n
from hanoi247.services import accounts
from hanoi247.services.accounts import NewUser

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
WEB = Path(i18n.__file__).parent / "web"  # i18n lives in entrypoints/, beside web/
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Desk:
    node: InProcessNode
    clock: FakeClock

    @property
    def app(self) -> object:
        return self.node.app

    def client(self, *, https: bool = False, **options: object) -> TestClient:
        base = "https://testserver" if https else "http://testserver"
        return TestClient(self.node.app, base_url=base, follow_redirects=False, **options)  # type: ignore[arg-type]

    def add_user(self, username: str, role: Role, *, totp: bool | None = None) -> NewUser:
        return accounts.add_user(
            self.node.runtime.uow_factory(),
            Authenticator(FAST),
            username=username,
            display_name=f"Nguyễn {username.capitalize()}",
            email=f"{username}@example.vn",
            role=role,
            now=self.clock.now(),
            actor="test",
            password=PASSWORD,
            timezone="Asia/Ho_Chi_Minh",
            totp=totp,
        )

    def code(self, user: NewUser) -> str:
        """The current code of ``user``'s authenticator, in a step not used before."""
        self.clock.advance(timedelta(seconds=31))
        assert user.totp_secret is not None
        return pyotp.TOTP(user.totp_secret).at(self.clock.now())

    def sign_in(
        self,
        client: TestClient,
        user: NewUser,
        *,
        password: str = PASSWORD,
        code: str | None = None,
        next_path: str = "",
    ) -> httpx.Response:
        form = client.get("/login")
        assert form.status_code == 200, form.text
        token = csrf_of(form.text)
        if code is None:
            code = self.code(user) if user.totp_secret else ""
        return client.post(
            "/login",
            data={
                "username": user.user.username,
                "password": password,
                "totp": code,
                "csrf_token": token,
                "next": next_path,
            },
        )


def make_desk(tmp_path: Path, *, state: str = "VN", node_id: str = "vn-a05") -> Desk:
    clock = FakeClock(T0)
    node = make_node(tmp_path / node_id, node_id=node_id, state=state, clock=clock)
    return Desk(node=node, clock=clock)


def csrf_of(page: str) -> str:
    found = CSRF_INPUT.search(page)
    assert found, "no CSRF token in the page"
    return found.group(1)


# --- What a reader sees, and which English UI strings a template has ----------------------


class _Visible(html.parser.HTMLParser):
    """Text a reader meets: text nodes, and the attributes read aloud or shown."""

    ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return "\n".join(parser.parts)


def ui_msgids(*sources: str) -> set[str]:
    """The English msgids (singular and plural) whose location in messages.pot is one of
    ``sources`` (paths under entrypoints/web: "templates/base.html", "pages/labels.py")."""
    wanted = {(WEB / s).resolve().relative_to(WEB.parents[3]).as_posix() for s in sources}
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    found: set[str] = set()
    for message in template:
        if not message.id or not any(path in wanted for path, _ in message.locations):
            continue
        found.update(message.id if isinstance(message.id, tuple) else (message.id,))
    return found


def _pattern(msgid: str) -> re.Pattern[str]:
    """``msgid`` as it would read on a page: placeholders filled with anything."""
    pattern = ".+?".join(re.escape(p) for p in re.split(r"\{\w*\}", msgid))
    if msgid[:1].isalnum():
        pattern = r"\b" + pattern
    if msgid[-1:].isalnum():
        pattern += r"\b"
    return re.compile(pattern)


def cognates(lang: str) -> set[str]:
    """msgids that ``lang`` translates with the same word on purpose (French
    "Administration", Spanish "Supervisor"): seeing them is not a missing translation."""
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=lang)
    same: set[str] = set()
    for message in catalogue:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid and any(s and _pattern(msgid).search(s) for s in strings):
                same.add(msgid)
    return same


def english_left(page: str, msgids: set[str], lang: str = "en") -> list[str]:
    """The msgids that appear, as English text, in what a reader sees of ``page`` (for a
    non-English ``lang``, leaving out its deliberate cognates)."""
    text = visible_text(page)
    exempt = cognates(lang) if lang != "en" else set()
    return sorted(m for m in msgids - exempt if _pattern(m).search(text))
