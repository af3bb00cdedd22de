"""Handler dependencies, declared explicitly as Litestar 3 requires."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency

from switchyard.shared.runtime import Runtime

# The running app's Runtime, provided by the runner.
AppRuntime: TypeAlias = NamedDependency[Runtime]
