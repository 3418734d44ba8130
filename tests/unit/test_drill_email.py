"""A DRILL alert by e-mail is marked DRILL in the subject and body, carries no case, and
ends with the link to the page that acknowledges it in one click."""

from __future__ import annotations

from datetime import UTC, datetime

from hanoi247.adapters.notify.factory import MarkedSmtpChannel
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic

DRILL_ID = "019cade2-12ba-7000-8000-000000000001"


def test_drill_mail_is_marked_and_links_to_its_acknowledge_page() -> None:
    channel = MarkedSmtpChannel("127.0.0.1", 2525, "hanoi247@fr.example.org", starttls=False)
    channel.link_base = "https://247.fr.example"
    alert = Notification(
        id="019cade2-12ba-7000-8000-0000000000ff",
        topic=Topic.DRILL_ALERT,
        severity=NotificationSeverity.WARNING,
        created_at=datetime(2026, 12, 6, 3, 0, tzinfo=UTC),
        recipients=("marie@fr.example.org",),
        facts={"drill": DRILL_ID, "from_state": "VN", "to_state": "FR"},
    )
    message = channel.build_message(alert)
    body = str(message.get_content())
    assert str(message["Subject"]).startswith("[hanoi247] [DRILL] ")
    assert "NOT A REQUEST" in body
    assert body.rstrip().endswith(f"https://247.fr.example/drills/{DRILL_ID}")
    assert alert.to_dict()["drill"] is True
    assert Notification.from_dict(alert.to_dict()) == alert
