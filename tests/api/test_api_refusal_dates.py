"""A refusal of a date names the first or last accepted day in the API's problem details
too (issue 12): ``earliest``/``latest`` (ISO 8601) beside the ``message`` that names it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from api_support import api_nodes, deliver

from workflow_harness import PRESERVATION

REQUESTS = "/api/v1/requests"


def test_api_problem_details_name_the_last_accepted_moment_and_the_first_accepted_day(
    tmp_path: Path,
) -> None:
    with api_nodes(tmp_path) as (vn, fr, clock):
        now = clock.now()
        ahead = (now + timedelta(days=1)).isoformat()
        future = PRESERVATION | {
            "identifiers": [{"type": "ip", "value": "203.0.113.7", "timestamp": ahead}]
        }
        refused_draft = vn.post(REQUESTS, "an", json=future)
        assert refused_draft.status_code == 422, refused_draft.text
        [seen] = refused_draft.json()["problems"]
        assert (seen["element"], seen["latest"]) == ("identifiers[0].timestamp", now.isoformat())
        assert now.isoformat() in seen["message"]
        drafted = vn.post(REQUESTS, "an", json=PRESERVATION)
        assert drafted.status_code == 201, drafted.text
        pid = drafted.json()["id"]
        assert vn.post(f"{REQUESTS}/{pid}/send", "an").status_code == 200
        deliver(vn, fr)
        assert fr.post(f"{REQUESTS}/{pid}/acknowledge", "claire").status_code == 200
        until = now.date() + timedelta(days=90)
        confirm = fr.post(f"{REQUESTS}/{pid}/preservation", "claire", json={"until": str(until)})
        assert confirm.status_code == 200, confirm.text
        refused = fr.post(
            f"{REQUESTS}/{pid}/preservation/extend", "claire", json={"until": str(until)}
        )
        assert refused.status_code == 422, refused.text
        [problem] = refused.json()["problems"]
        first = str(until + timedelta(days=1))
        assert (problem["element"], problem["earliest"]) == ("preservation_until", first)
        assert first in problem["message"]
