"""Write the protocol's published artefacts from the code: docs/schemas/ and docs/vectors/.

The node validates with ``src/hanoi247/schemas/`` (shipped in the package); docs/schemas/
holds identical copies for other implementers. docs/vectors/hanoi247-1.json is produced by
``hanoi247.adapters.federation.fixed_vectors``. Both are checked by
``tests/unit/test_protocol_artifacts.py``.

    python scripts/export_protocol.py            # (re)write docs/schemas and docs/vectors
    python scripts/export_protocol.py --check    # write nothing; exit 1 if they differ
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hanoi247.adapters.federation import fixed_vectors, schemas

DOCS = Path(__file__).resolve().parent.parent / "docs"


def expected() -> dict[Path, bytes]:
    files = {DOCS / "schemas" / name: raw for name, raw in schemas.schema_files().items()}
    files[DOCS / "vectors" / "hanoi247-1.json"] = fixed_vectors.vectors_json().encode("utf-8")
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file differs")
    args = parser.parse_args()
    differ = [p for p, raw in expected().items() if not p.is_file() or p.read_bytes() != raw]
    if args.check:
        for path in differ:
            print(f"{path.relative_to(DOCS.parent)} differs; run scripts/export_protocol.py")
        return 1 if differ else 0
    for path in differ:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(expected()[path])
        print(f"wrote {path.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
