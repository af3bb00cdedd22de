from __future__ import annotations

import importlib
import pkgutil
import sys

import uvloop

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
            # The loop the services run on (shared/cli.py): what runs in this
            # process (an agent, a bare client, a publisher) runs as it would there.
            uvloop.run(module.run(ctx))


if __name__ == "__main__":
    main(sys.argv[1:])
