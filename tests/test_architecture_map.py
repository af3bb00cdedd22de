"""docs/architecture.md's map is the tree: every top-level folder is in its
folder table, and every module is named in "Where each module lives" under
the folder it lives in, so a newcomer who reads the map finds each file
where it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()
PACKAGES = [
    ROOT / "shared/src/switchyard/shared",
    ROOT / "services/config-api/src/switchyard/config_api",
    ROOT / "services/call-control/src/switchyard/call_control",
    ROOT / "services/event-relay/src/switchyard/event_relay",
    ROOT / "services/media/src/switchyard/media",
    ROOT / "fssim/src/switchyard/fssim",
    ROOT / "benchmarks",
]


def _section() -> str:
    start = DOC.index("## Where each module lives")
    end = DOC.index("\n## ", start + 1)
    return DOC[start:end]


def _blocks() -> dict[str, str]:
    """Folder (relative to the repository, ending in /) -> the text naming its
    modules: a package's paragraph, and each of its ``- `sub/`:`` bullets."""
    blocks: dict[str, str] = {}
    package = ""
    for part in re.split(r"\n(?=\*\*`|- `)", _section()):
        head = re.match(r"\*\*`([^`]+/)`\*\*|- `([^`]+/)`[^:\n]*:", part)
        if head is None:
            continue
        if head.group(1):
            package = head.group(1)
            blocks[package] = part
        else:
            blocks[package + head.group(2)] = part
    return blocks


def _modules() -> list[tuple[str, str]]:
    """(folder, module name) of every module below the packages."""
    found = []
    for package in PACKAGES:
        for path in sorted(package.rglob("*.py")):
            if path.name == "__init__.py" or "__pycache__" in path.parts:
                continue
            folder = path.parent.relative_to(ROOT).as_posix() + "/"
            found.append((folder, path.stem))
    return found


@pytest.mark.parametrize(("folder", "module"), _modules(), ids=lambda v: v)
def test_every_module_is_named_where_it_lives(folder: str, module: str) -> None:
    blocks = _blocks()
    assert folder in blocks, f"docs/architecture.md has no entry for {folder}"
    assert f"`{module}`" in blocks[folder], (
        f"docs/architecture.md names no `{module}` under {folder} (Where each module lives)"
    )


def test_every_top_level_folder_is_in_the_folder_table() -> None:
    table = DOC[: DOC.index("\n## ")]
    for path in sorted(ROOT.iterdir()):
        if not path.is_dir() or path.name.startswith((".", "_")):
            continue
        # Build and tool output that git ignores is not part of the tree.
        if path.name in {"node_modules", "build", "dist"} or path.name.endswith(".egg-info"):
            continue
        assert f"`{path.name}/" in table, f"docs/architecture.md's folder table lacks {path.name}/"
