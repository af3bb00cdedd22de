"""The messages a package's console code and templates use (gettext extraction).

``_("…")``/``gettext``/``ngettext`` in templates and ``N_("…")`` in Python
mark a message; the catalog test checks that each is in the package's
``locale/en.po`` and ``locale/zh_CN.po`` with a translation in both.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from babel.messages.extract import extract_from_dir

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true"}}


def package_dir(package: str) -> Path:
    return Path(str(files(package)))


def extract(package: str) -> set[str]:
    """Every message id marked in ``package`` (its templates and modules)."""
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        package_dir(package),
        method_map=METHODS,
        options_map=OPTIONS,
        keywords=KEYWORDS,
    ):
        if isinstance(message, tuple):
            found.update(m for m in message if m)
        elif message:
            found.add(message)
    return found
