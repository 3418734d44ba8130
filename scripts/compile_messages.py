"""Compile every ``locale/<lang>/LC_MESSAGES/messages.po`` into ``messages.mo`` next to it.

The same as ``pybabel compile -D messages -d src/hanoi247/locale``, plus checks: a catalogue
with fuzzy entries, an untranslated message or Babel's format errors is reported, and with
``--check`` fails the build. Without a compiled ``.mo``, ``entrypoints.i18n`` compiles on
first use into a per-user cache, so this step is for builds and packages, not for development.

    python scripts/compile_messages.py            # compile, report problems
    python scripts/compile_messages.py --check    # compile nothing; exit 1 on any problem
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from hanoi247.entrypoints import i18n


def problems(po: Path, lang: str) -> list[str]:
    """What is wrong with one catalogue (English may leave msgstr empty)."""
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    found = []
    for message in catalog:
        if not message.id:
            continue
        where = f"{lang}: {message.context or ''}|{message.id!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            found.append(f"{where}: fuzzy")
        if lang != "en" and not all(strings):
            found.append(f"{where}: not translated")
    for message, errors in catalog.check():
        found.extend(f"{lang}: {message.id!r}: {error}" for error in errors)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 on problems")
    args = parser.parse_args(argv)
    failed = False
    for lang in i18n.LANGUAGES:
        po = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            print(f"{lang}: no catalogue at {po}", file=sys.stderr)
            failed = True
            continue
        found = problems(po, lang)
        for line in found:
            print(line, file=sys.stderr)
        failed = failed or bool(found)
        if not args.check:
            i18n.compile_po(po, po.with_suffix(".mo"))
            print(f"{lang}: compiled {po.with_suffix('.mo').name} ({len(found)} problems)")
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
