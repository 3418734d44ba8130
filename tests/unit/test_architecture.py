"""The import-linter contracts of pyproject.toml hold, and each one fails when the import it
forbids is added (on a copy of the package: the real source is never touched)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE = ROOT / "src" / "hanoi247"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = {
    c["id"]: c for c in tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
}


def _copy_package(target: Path) -> Path:
    """The package's Python files under ``target/src`` (all import-linter reads)."""
    for source in PACKAGE.rglob("*.py"):
        if "__pycache__" in source.parts:
            continue
        destination = target / "src" / "hanoi247" / source.relative_to(PACKAGE)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(source.read_bytes())
    return target / "src"


def _lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(PYPROJECT), "--no-cache"],
        cwd=src.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _add_import(src: Path, module: str, statement: str) -> None:
    path = src / Path(*module.split(".")).with_suffix(".py")
    assert path.is_file(), path
    path.write_text(path.read_text(encoding="utf-8") + f"\n{statement}  # noqa\n", "utf-8")


def test_the_untouched_package_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint_imports(_copy_package(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "broken"),
    [
        ("hanoi247.domain.states", "import sqlalchemy", {"domain-pure"}),
        ("hanoi247.domain.requests", "import hanoi247.ports", {"domain-pure", "layers"}),
        (
            "hanoi247.services.desk",
            "import hanoi247.adapters.clock",
            {"services-no-adapters", "layers"},
        ),
        (
            "hanoi247.adapters.notify.smtp",
            "import hanoi247.services.desk",
            {"adapters-no-services", "layers"},
        ),
        ("hanoi247.adapters.federation.wire", "import joserfc.jwk", {"crypto-boundary"}),
        ("hanoi247.adapters.notify.webhook", "import pyrage", {"pyrage-boundary"}),
        # adapters import ports.clock, so they would now reach services too (indirectly)
        (
            "hanoi247.ports.clock",
            "import hanoi247.services.desk",
            {"layers", "adapters-no-services"},
        ),
    ],
    ids=[
        "domain-imports-sqlalchemy",
        "domain-imports-ports",
        "services-import-adapters",
        "adapters-import-services",
        "federation-imports-joserfc",
        "notify-imports-pyrage",
        "ports-import-services",
    ],
)
def test_a_forbidden_import_breaks_the_contracts_that_forbid_it_and_no_other(
    tmp_path: Path, module: str, statement: str, broken: set[str]
) -> None:
    src = _copy_package(tmp_path)
    _add_import(src, module, statement)

    result = _lint_imports(src)

    assert result.returncode == 1, result.stdout + result.stderr
    for contract_id, contract in CONTRACTS.items():
        verdict = "BROKEN" if contract_id in broken else "KEPT"
        assert f"{contract['name']} {verdict}" in result.stdout, (contract_id, result.stdout)
    assert module in result.stdout  # the report names the offending import


@pytest.mark.parametrize("module", ["hanoi247.adapters.crypto", "hanoi247.adapters.crypto.keys"])
def test_adapters_crypto_may_import_pyrage(tmp_path: Path, module: str) -> None:
    src = _copy_package(tmp_path)
    path = src / Path(*module.split("."))
    target = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    target.write_text(target.read_text(encoding="utf-8") + "\nimport pyrage  # noqa\n", "utf-8")

    result = _lint_imports(src)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def test_no_contract_ignores_an_import_except_the_pyrage_exemption_of_adapters_crypto() -> None:
    ignored = {cid: c["ignore_imports"] for cid, c in CONTRACTS.items() if "ignore_imports" in c}

    assert ignored == {
        "pyrage-boundary": [
            "hanoi247.adapters.crypto -> pyrage",
            "hanoi247.adapters.crypto.** -> pyrage",
        ]
    }
