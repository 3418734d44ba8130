"""A bad value in a page's address gives the translated error page, not the API's JSON."""

from __future__ import annotations

from web_desk import Desk

from hanoi247.domain.accounts import Role


def test_a_bad_value_in_a_page_address_gives_the_error_page_not_json(desk: Desk) -> None:
    lan = desk.add_user("lan", Role.OFFICER)
    client = desk.client()
    desk.sign_in(client, lan)

    page = client.get("/inbox", params={"cursor": "x" * 5000}, headers={"Accept": "text/html"})
    api = client.get(
        "/inbox", params={"cursor": "x" * 5000}, headers={"Accept": "application/json"}
    )

    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "A value in this page's address is not valid." in page.text.replace("&#39;", "'")
    assert api.headers["content-type"] == "application/problem+json"
