"""Treaty queries: who is bound, which legal bases exist between two participants.

These read-side functions take the actions explicitly (from a file, the node's store or
the packaged snapshot) so the CLI, the API and the workflows answer the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from hanoi247.domain.depositary import StatusFile, parse_status_csv
from hanoi247.domain.errors import StatusDataError
from hanoi247.domain.instruments import PACKAGED_INSTRUMENTS, load_instruments
from hanoi247.domain.states import StateCatalogue, load_states
from hanoi247.domain.treaty import Instrument, TreatyAction, instrument_status, legal_bases

PACKAGED_STATUS = "treaty_status.csv"


@dataclass(frozen=True, slots=True)
class TreatyCatalogue:
    """The reference data every treaty question needs, loaded once by the composition root."""

    states: StateCatalogue
    instruments: tuple[Instrument, ...]

    @classmethod
    def packaged(cls) -> TreatyCatalogue:
        return cls(states=load_states(), instruments=tuple(load_instruments()))

    @property
    def is_reio(self) -> Mapping[str, bool]:
        return {code: state.is_reio for code, state in self.states.items()}

    def instrument(self, instrument_id: str) -> Instrument:
        for instrument in self.instruments:
            if instrument.id == instrument_id:
                return instrument
        raise StatusDataError(
            "--instrument",
            0,
            "instrument",
            f"{instrument_id!r} is not one of {', '.join(i.id for i in self.instruments)}",
        )

    def parse_status(self, text: str, *, source: str) -> StatusFile:
        return parse_status_csv(
            text,
            source=source,
            participants=set(self.states),
            instruments={i.id for i in self.instruments} | set(PACKAGED_INSTRUMENTS),
        )

    def read_status_file(self, path: Path) -> StatusFile:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise StatusDataError(str(path), 0, "file", "no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise StatusDataError(
                str(path), 0, "file", f"cannot be read as UTF-8 text ({exc.__class__.__name__})"
            ) from None
        return self.parse_status(text, source=str(path))

    def packaged_status(self) -> StatusFile:
        text = (
            resources.files("hanoi247.data").joinpath(PACKAGED_STATUS).read_text(encoding="utf-8")
        )
        return self.parse_status(text, source=PACKAGED_STATUS)


def status_report(
    catalogue: TreatyCatalogue, instrument_id: str, actions: Sequence[TreatyAction], *, on: date
) -> dict[str, Any]:
    """The JSON of ``hanoi247 treaty status``."""
    instrument = catalogue.instrument(instrument_id)
    status = instrument_status(instrument, actions, on=on, is_reio=catalogue.is_reio)
    parties = sorted(status.parties_on(), key=lambda m: m.participant)
    return {
        "instrument": instrument.id,
        "on": on.isoformat(),
        "counted_instruments": status.counted_instruments,
        "entry_into_force": status.entry_into_force.isoformat()
        if status.entry_into_force
        else None,
        "parties": [
            {"iso2": m.participant, "in_force_from": m.in_force_from.isoformat()}
            for m in parties
            if m.in_force_from is not None
        ],
    }


def between_report(
    catalogue: TreatyCatalogue, a: str, b: str, actions: Sequence[TreatyAction], *, on: date
) -> dict[str, Any]:
    """The JSON of ``hanoi247 treaty between``."""
    first, second = catalogue.states.get_state(a), catalogue.states.get_state(b)
    bases = legal_bases(
        catalogue.instruments, actions, first.iso2, second.iso2, on=on, is_reio=catalogue.is_reio
    )
    return {
        "a": first.iso2,
        "b": second.iso2,
        "on": on.isoformat(),
        "legal_bases": [
            {"instrument": basis.instrument, "in_force_since": basis.in_force_since.isoformat()}
            for basis in bases
        ],
    }
