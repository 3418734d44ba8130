"""Run every benchmark module in this folder, print a table, write benchmarks/results.json.

A benchmark module defines ``run() -> list[Figure]``. A figure compared with a peer or
baseline measured in the same run carries ``baseline``, ``baseline_value`` and ``ratio``.
Run one with ``python -m benchmarks NAME`` (module name without ``bench_``).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

from benchmarks.figures import Figure

HERE = Path(__file__).parent


def discover(selected: list[str]) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    if selected:
        wanted = {s if s.startswith("bench_") else f"bench_{s}" for s in selected}
        unknown = wanted - set(names)
        if unknown:
            sys.exit(
                f"unknown benchmark(s): {', '.join(sorted(unknown))}; known: {', '.join(names)}"
            )
        names = [n for n in names if n in wanted]
    return names


def main(argv: list[str]) -> int:
    figures: list[Figure] = []
    for name in discover(argv):
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        print(f"== {name} …", flush=True)
        figures.extend(module.run())
        print(f"   done in {time.perf_counter() - started:.1f} s", flush=True)
    width = max((len(f.name) for f in figures), default=10)
    print()
    print(f"{'figure':<{width}}  {'value':>14}  {'unit':<10}  {'baseline':<28}  {'ratio':>8}")
    for f in figures:
        base = (
            f"{f.baseline} = {f.baseline_value:.4g}"
            if f.baseline and f.baseline_value is not None
            else ""
        )
        ratio = f"{f.ratio:.3f}" if f.ratio is not None else ""
        print(f"{f.name:<{width}}  {f.value:>14.4g}  {f.unit:<10}  {base:<28}  {ratio:>8}")
    out = HERE / "results.json"
    results = [f.as_json() for f in figures]
    if argv and out.exists():
        # A partial run replaces only the figures it measured; the others are kept.
        fresh = {r["name"] for r in results}
        kept = [r for r in json.loads(out.read_text("utf-8")) if r.get("name") not in fresh]
        results = kept + results
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
