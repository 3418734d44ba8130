"""``GET /requests/{id}.pdf``: the PDF for those who read request content, in the chosen
language(s), only among the seven; the case page links it, bilingual with the peer's."""

from __future__ import annotations

from pathlib import Path

import pytest
from case_desk import Pair, make_pair

from hanoi247.domain.accounts import Role


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANOI247_ARGON2_FAST", "1")
        made = make_pair(tmp_path_factory.mktemp("pdf"))
    yield made  # type: ignore[misc]
    made.vn.node.close()
    made.fr.node.close()


@pytest.fixture(scope="module")
def sent(pair: Pair) -> str:
    return pair.send_complete()


def test_the_pdf_route_returns_the_request_as_an_inline_pdf(pair: Pair, sent: str) -> None:
    answer = pair.fr_client.get(f"/requests/{sent}.pdf?lang=fr&second=vi")

    assert answer.status_code == 200
    assert answer.content.startswith(b"%PDF")
    assert answer.headers["content-type"] == "application/pdf"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('inline; filename="VN-2026-')
    assert disposition.endswith('.pdf"')


def test_the_case_page_links_the_print_and_the_bilingual_print(pair: Pair, sent: str) -> None:
    page = pair.fr_client.get(f"/requests/{sent}", headers={"accept-language": "fr"}).text

    assert f'href="/requests/{sent}.pdf?lang=fr"' in page
    assert f'href="/requests/{sent}.pdf?lang=fr&amp;second=vi"' in page


@pytest.mark.parametrize("query", ["lang=xx", "lang=fr&second=de", "second=en-GB"])
def test_only_the_seven_languages_are_accepted(pair: Pair, sent: str, query: str) -> None:
    answer = pair.fr_client.get(f"/requests/{sent}.pdf?{query}", headers={"accept": "text/html"})

    assert answer.status_code == 400


def test_an_unknown_request_has_no_pdf(pair: Pair) -> None:
    answer = pair.fr_client.get("/requests/nothing.pdf", headers={"accept": "text/html"})

    assert answer.status_code == 404


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.AUDITOR])
def test_roles_that_do_not_read_request_content_get_403(
    pair: Pair, sent: str, role: Role, tmp_path: Path
) -> None:
    user = pair.fr.add_user(f"no-{role.value}".replace("_", "-"), role, totp=False)
    client = pair.fr.client()
    assert pair.fr.sign_in(client, user).status_code == 303

    answer = client.get(f"/requests/{sent}.pdf", headers={"accept": "text/html"})

    assert answer.status_code == 403
    assert b"%PDF" not in answer.content


def content_reads(pair: Pair) -> list[tuple[str, str]]:
    with pair.fr.node.runtime.uow_factory() as uow:
        return [
            (str(e.subject), str(e.details["channel"]))
            for e in uow.audit.entries()
            if e.tag == "request:content:read"
        ]


def test_every_read_of_the_case_page_and_the_pdf_is_an_audit_entry(pair: Pair, sent: str) -> None:
    before = content_reads(pair)
    assert pair.fr_client.get(f"/requests/{sent}").status_code == 200
    assert pair.fr_client.get(f"/requests/{sent}.pdf?lang=fr").status_code == 200
    assert content_reads(pair)[len(before) :] == [(sent, "page"), (sent, "pdf")]


def test_an_auditor_on_the_case_page_sees_metadata_and_reads_nothing_audited(
    pair: Pair, sent: str
) -> None:
    user = pair.fr.add_user("fr-auditor-2", Role.AUDITOR, totp=False)
    client = pair.fr.client()
    assert pair.fr.sign_in(client, user).status_code == 303
    before = content_reads(pair)
    assert client.get(f"/requests/{sent}").status_code == 200
    assert content_reads(pair) == before
