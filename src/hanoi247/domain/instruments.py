"""Reading legal instruments from their rule files (``hanoi247/rules/<id>.toml``).

A rule file is data a legal officer can correct. Every rule carries its article
reference and a ``confirmed`` flag: ``false`` until checked against the authentic text.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date
from importlib import resources
from typing import Any

from hanoi247.domain.errors import RuleDataError
from hanoi247.domain.treaty import EntryIntoForceRule, Instrument, Period

PACKAGED_INSTRUMENTS = ("uncc", "budapest")


def _section(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise RuleDataError(f"{where}: missing table [{key}]")
    return value


def _period(data: Mapping[str, Any], key: str, where: str) -> Period:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise RuleDataError(f"{where}: missing period {key!r}")
    return Period.from_mapping(value, f"{where}.{key}")


def _str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise RuleDataError(f"{where}: {key!r} must be a non-empty string")
    return value


def unsourced_rules(data: Mapping[str, Any], path: str = "") -> list[str]:
    """The rules marked ``confirmed = true`` that do not name their ``source``.

    A confirmed rule says what it was checked against (the depositary record, the
    authentic text and where it was read): a confirmation nobody can re-check is none.
    """
    found: list[str] = []
    if data.get("confirmed") is True:
        source = data.get("source")
        if not isinstance(source, str) or not source.strip():
            found.append(path or "(top)")
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if isinstance(value, Mapping):
            found += unsourced_rules(value, where)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    found += unsourced_rules(item, f"{where}[{i}]")
    return found


def parse_instrument(data: Mapping[str, Any], where: str) -> Instrument:
    unsourced = unsourced_rules(data)
    if unsourced:
        raise RuleDataError(
            f"{where}: marked confirmed without a source: {', '.join(unsourced[:5])}; "
            'add source = "..." naming what the rule was checked against, '
            "or set confirmed = false"
        )
    head = _section(data, "instrument", where)
    eif = _section(data, "entry_into_force", where)
    later = _section(eif, "later", f"{where}[entry_into_force]")
    denunciation = _section(data, "denunciation", where)
    adopted = head.get("adopted")
    fixed = eif.get("fixed_date")
    if adopted is not None and not isinstance(adopted, date):
        raise RuleDataError(f"{where}: instrument.adopted must be a date")
    if fixed is not None and not isinstance(fixed, date):
        raise RuleDataError(f"{where}: entry_into_force.fixed_date must be a date")
    threshold = eif.get("threshold")
    if not isinstance(threshold, int) or threshold < 1:
        raise RuleDataError(f"{where}: entry_into_force.threshold must be a positive integer")
    reio = eif.get("reio_counted", False)
    if not isinstance(reio, bool):
        raise RuleDataError(f"{where}: entry_into_force.reio_counted must be true or false")
    rule = EntryIntoForceRule(
        article=_str(eif, "article", where),
        threshold=threshold,
        period=_period(eif, "period", f"{where}.entry_into_force"),
        later_article=_str(later, "article", where),
        later_period=_period(later, "period", f"{where}.entry_into_force.later"),
        reio_counted=reio,
        denunciation_article=_str(denunciation, "article", where),
        denunciation_period=_period(denunciation, "period", f"{where}.denunciation"),
        fixed_date=fixed,
        confirmed=bool(eif.get("confirmed", False)),
    )
    return Instrument(
        id=_str(head, "id", where),
        title=_str(head, "title", where),
        short_title=_str(head, "short_title", where),
        adopted=adopted,
        entry_into_force=rule,
        rules=data,
    )


def parse_instrument_toml(text: str, where: str) -> Instrument:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleDataError(f"{where}: not valid TOML: {exc}") from exc
    return parse_instrument(data, where)


def load_instrument(instrument_id: str) -> Instrument:
    if instrument_id not in PACKAGED_INSTRUMENTS:
        raise RuleDataError(
            f"unknown instrument {instrument_id!r}; known: {', '.join(PACKAGED_INSTRUMENTS)}"
        )
    name = f"{instrument_id}.toml"
    text = resources.files("hanoi247.rules").joinpath(name).read_text(encoding="utf-8")
    return parse_instrument_toml(text, f"rules/{name}")


def load_instruments() -> list[Instrument]:
    return [load_instrument(i) for i in PACKAGED_INSTRUMENTS]
