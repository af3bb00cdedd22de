"""The console's languages: gettext catalogs, chosen per request.

Every package with console pages keeps its messages in
``<package>/locale/<lang>.po`` (the shell's in ``switchyard.shared.console``);
a page is rendered with the shell's catalog plus its own package's. The
message ids are the English text; both ``en`` and ``zh_CN`` translate every
one of them (a test checks that no message lacks either and that every
message a template uses is in a catalog).

The language is the ``sy_lang`` cookie (set by the switcher in the page
header) or else the best of the browser's ``Accept-Language``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from babel.messages.pofile import read_po

LANGUAGES = ("en", "zh_CN")
DEFAULT = "en"
LANG_COOKIE = "sy_lang"
# What the page's <html lang> says for each.
HTML_LANG = {"en": "en", "zh_CN": "zh-CN"}

# The telecom terms every Chinese message uses the same way (docs/console.md
# lists them; the catalog test holds each message to them).
GLOSSARY = {
    "extension": "分机",
    "gateway": "网关",
    "trunk": "中继",
    "call park": "呼叫驻留",
    "caller": "主叫",
    "callee": "被叫",
    "context": "呼叫上下文",
    "route": "路由",
    "node": "节点",
    "channel": "通道",
    "leg": "通话腿",
    "hang up": "挂断",
    "transfer": "转接",
    "listen": "监听",
    "whisper": "密语",
    "barge in": "强插",
    "recording": "录音",
    "early media": "早期媒体",
    "on hold": "保持中",
    "registration": "注册状态",
    "replay": "重发",
}


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is written; ``_`` translates
    it where it is shown (the catalog test extracts both)."""
    return message


def negotiate(cookie: str | None, accept_language: str) -> str:
    """The language of a request: the cookie when it names one we have, else
    the first of the browser's languages we have (by q), else English."""
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        # zh, zh-CN, zh-Hans, zh-SG: simplified Chinese; zh-TW/zh-HK have no catalog.
        if tag in ("zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg"):
            return "zh_CN"
        if tag == "en" or tag.startswith("en-"):
            return "en"
    return DEFAULT


def catalog_path(package: str, lang: str) -> Traversable:
    return files(package) / "locale" / f"{lang}.po"


@cache
def _messages(package: str, lang: str) -> dict[str, str]:
    resource = catalog_path(package, lang)
    if not resource.is_file():
        return {}
    with resource.open("rb") as f:
        catalog = read_po(f, locale=lang)
    return {
        m.id: m.string
        for m in catalog
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string
    }


class Translations:
    """``gettext``/``ngettext`` over the merged catalogs of some packages."""

    def __init__(self, lang: str, messages: dict[str, str]) -> None:
        self.lang = lang
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        # Chinese has one form; English two. Catalogs hold each form as its own id.
        return self.gettext(singular if n == 1 else plural)


@cache
def translations(packages: tuple[str, ...], lang: str) -> Translations:
    """The catalogs of ``packages`` merged, earlier ones winning (each read once)."""
    merged: dict[str, str] = {}
    for package in reversed(packages):
        merged.update(_messages(package, lang))
    return Translations(lang, merged)
