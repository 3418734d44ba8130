"""How the checks of a request report their problems: one ``Report`` per request, and what
the officer should do about each problem (English; the edges translate by error code,
``locale/vocabulary.toml`` [problem])."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from hanoi247.domain.errors import ErrorCode, Problem, Severity

HINTS: dict[str, str] = {
    "missing": "Add {name}. {help}",
    "text": "Write {name} as text.",
    "text_or_omit": "Write {name} as text, or leave it out.",
    "offence_number": "Give {name} as the article number of the offence, e.g. 7, or as a "
    'national offence: {{"name": ..., "provision": ..., "max_penalty_years": ...}}.',
    "national_not_allowed": "{instrument} takes requests on its own offences only: give the "
    "article number of one of {known}.",
    "national_name": "Name the offence as your law names it, e.g. Kidnapping.",
    "national_provision": "Give the provision of your law that makes it an offence, e.g. "
    "Penal Code, art. 157.",
    "national_penalty": "Give the maximum penalty of the offence in years of deprivation of "
    "liberty, e.g. 10.",
    "not_serious": "{offence} carries at most {years:g} years: a serious crime carries a "
    "maximum of at least {minimum:g} years. Name a Convention offence, send on another legal "
    "basis, or check the maximum penalty.",
    "not_requested_state": "{value} is not a State: a 24/7 point of contact is designated by "
    "each State. Send the request to the member State that holds the data.",
    "language_not_accepted": "{state} accepts requests in {accepted} ({source}, {on}); "
    "translate the request into one of them and set language accordingly.",
    "unknown_offence": "Art. {value} is not an offence a request can be made on; use one of "
    "{known}.",
    "must_be_true": "Set {name} to true: preservation holds the data until a mutual legal "
    "assistance request follows; if none will, ask for another kind of assistance.",
    "list": "Give {name} as a list of objects.",
    "person": "Give each person as an object with name, location or nationality.",
    "remove": "Remove {name}: it is not a field here; the fields are {allowed}.",
    "identifier_type": "Set the identifier type to one of {allowed}.",
    "identifier_value": "Give the identifier's value.",
    "ip": "Check the address: it is not an IPv4 or IPv6 address.",
    "ip_timestamp": "Add the date and time the IP address was seen, with its UTC offset: "
    "addresses are reassigned, a provider cannot find a user without it.",
    "account_service": "Name the service the account belongs to (e.g. the mail or social "
    "network provider): a user name alone identifies no one.",
    "port": "Give the source port as a number from 0 to 65535.",
    "timestamp": "Write the time as ISO 8601 with its UTC offset, e.g. 2026-11-28T21:14:03+07:00.",
    "zone": "Add the UTC offset to the time (e.g. +07:00 or Z): without it the time is "
    "ambiguous by up to a day.",
    "future": "This time is later than now ({latest}): check the date and the UTC offset.",
    "range": 'Give date_range as {{"from": ..., "to": ...}}, each a day (2026-11-28) or a time '
    "with its UTC offset (2026-11-28T21:14:03+07:00).",
    "range_order": "Put the start of the range before its end.",
    "range_broad": "Narrow the range to what the investigation needs: more than {days} days "
    "is often refused as disproportionate (start on {earliest} or later).",
    "range_future": "The range starts in the future, when no stored data exists; check the "
    "year (start on {latest} or earlier).",
    "range_missing": "Add the date range of the data you need: providers search and keep data "
    "by time, and a bounded request is answered faster.",
    "language": "Give the language as an ISO 639 code, e.g. en, fr or vi.",
    "object": "Give {name} as an object.",
    "flag": "Set {name} to true or false.",
    "kind": "Set kind to one of {allowed}.",
    "unknown_kind": "{instrument} has no request kind {value!r}; use one of {allowed}.",
    "to": "Set to to the ISO 3166 alpha-2 code of the requested State, e.g. FR.",
    "unknown_state": "Use the ISO 3166 alpha-2 code of a known State, e.g. FR; {value!r} is "
    "not one.",
    "urgency": "Set urgency to routine, urgent or emergency.",
    "fixed_urgency": "A {kind} request is always {value}: set urgency to {value}, or choose "
    "another kind.",
    "not_extensible": "A {kind} request cannot be extended; send a new request instead.",
    "extends": "Give the reference of the request you are extending (e.g. VN-2026-000123).",
    "extension_flag": "Set extension to true when you give extends_reference, or remove it.",
}


@dataclass
class Report:
    article: str  # cited by problems with no element rule of their own
    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        element: str,
        code: ErrorCode,
        hint: str,
        *,
        article: str | None = None,
        severity: Severity = Severity.ERROR,
        earliest: date | None = None,
        latest: date | datetime | None = None,
        **values: object,
    ) -> None:
        limits = {  # the accepted limits, ISO 8601 in the English hint
            name: value.isoformat()
            for name, value in (("earliest", earliest), ("latest", latest))
            if value is not None
        }
        detail = HINTS[hint].format(name=element, **limits, **values)
        cited = self.article if article is None else article
        self.problems.append(Problem(element, cited, code, severity, detail, earliest, latest))


def present(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value != []


def check_keys(
    value: Mapping[str, object],
    allowed: Collection[str],
    where: str,
    report: Report,
    article: str | None = None,
) -> None:
    listed = ", ".join(allowed)
    for key in (k for k in value if k not in allowed):
        report.add(
            f"{where}.{key}", ErrorCode.UNKNOWN_FIELD, "remove", article=article, allowed=listed
        )
