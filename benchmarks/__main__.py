from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sys

import benchmarks
from benchmarks.harness import backing


def main(names: list[str]) -> None:
    found = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if m.name.startswith("bench_")
    )
    chosen = names or found
    unknown = set(chosen) - set(found)
    if unknown:
        sys.exit(f"unknown benchmark(s) {', '.join(sorted(unknown))}; have {', '.join(found)}")
    with backing() as ctx:
        for name in chosen:
            print(f"{name}:", flush=True)
            module = importlib.import_module(f"benchmarks.bench_{name}")
            asyncio.run(module.run(ctx))


if __name__ == "__main__":
    main(sys.argv[1:])
