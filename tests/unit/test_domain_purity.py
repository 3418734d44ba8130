"""The domain imports the standard library and itself, nothing else (ARCHITECTURE: the one rule)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import json, sys
before = set(sys.modules)
import hanoi247.domain
import pkgutil, importlib
for info in pkgutil.iter_modules(hanoi247.domain.__path__, "hanoi247.domain."):
    importlib.import_module(info.name)
loaded = sorted(set(sys.modules) - before)
print(json.dumps(loaded))
"""


def test_importing_the_domain_loads_no_third_party_module() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True)
    loaded = json.loads(out.stdout)
    stdlib = sys.stdlib_module_names
    foreign = [
        m
        for m in loaded
        if m.split(".")[0] not in stdlib and not m.startswith("hanoi247") and not m.startswith("_")
    ]
    assert any(m.startswith("hanoi247.domain.") for m in loaded), "probe imported no domain module"
    assert foreign == [], f"domain pulled in third-party modules: {foreign}"


def test_domain_modules_do_not_import_outer_layers() -> None:
    """hanoi247.domain must not reach up into services, adapters or entrypoints."""
    import pathlib

    import hanoi247.domain

    root = pathlib.Path(hanoi247.domain.__file__).parent
    offenders = []
    for path in root.glob("*.py"):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                layer in stripped
                for layer in (
                    "hanoi247.services",
                    "hanoi247.adapters",
                    "hanoi247.entrypoints",
                    "hanoi247.ports",
                    "hanoi247.bootstrap",
                )
            ):
                offenders.append(f"{path.name}:{number}: {stripped}")
    assert offenders == []
