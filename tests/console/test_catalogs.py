"""Every console message is in both catalogs (en and zh_CN) with a translation,
no catalog keeps a message nothing uses, the Chinese one is Chinese and says
the telecom terms as the glossary does."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from switchyard.shared.console.catalogs import extract
from switchyard.shared.console.i18n import GLOSSARY, LANGUAGES, catalog_path, translations

PACKAGES = [
    "switchyard.shared.console",
    "switchyard.call_control",
    "switchyard.config_api",
    "switchyard.event_relay",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_message_has_both_languages(package: str) -> None:
    used = extract(package)
    assert used, f"{package} marks no message"
    for lang in LANGUAGES:
        with catalog_path(package, lang).open("rb") as f:
            catalog = read_po(f, locale=lang)
        translated = {m.id for m in catalog if m.id and m.string}
        assert used <= translated, f"{package} {lang} lacks {sorted(used - translated)}"
        stale = {m.id for m in catalog if m.id} - used
        assert not stale, f"{package} {lang} has messages nothing uses: {sorted(stale)}"
        # A placeholder the code fills must survive the translation.
        for m in catalog:
            if m.id and isinstance(m.id, str) and isinstance(m.string, str):
                assert sorted(re.findall(r"%\(\w+\)s", m.id)) == sorted(
                    re.findall(r"%\(\w+\)s", m.string)
                ), (lang, m.id)


def test_the_chinese_catalog_is_chinese() -> None:
    for package in PACKAGES:
        zh = translations((package,), "zh_CN")
        for message in extract(package):
            text = re.sub(r"%\(\w+\)s", "", zh.gettext(message))
            assert re.search(r"[\u4e00-\u9fff]", text), (package, message, text)


def test_the_chinese_messages_use_the_glossary() -> None:
    """A message naming a glossary term says it with the glossary's word."""
    for package in PACKAGES:
        zh = translations((package,), "zh_CN")
        for message in extract(package):
            english = re.sub(r"%\(\w+\)s", "", message).lower()
            for term, chinese in GLOSSARY.items():
                if re.search(rf"\b{term}(s|ed|ing)?\b", english):
                    assert chinese in zh.gettext(message), (package, message, term)
