"""The Simplified Chinese catalogue is complete, consistent and compiled.

Refresh it with ``bash locale/update.sh`` after source strings change; these tests then
point at whatever still needs a translator. No database is used.
"""

import gettext as gnu_gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"


# --- a small .po parser ------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # plural index → text; 0 when singular
    flags: set[str] = field(default_factory=set)

    @property
    def is_plural(self) -> bool:
        return self.msgid_plural is not None

    def __str__(self) -> str:
        return f"{PO_PATH.name}:{self.line} {self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(token: str, where: int) -> str:
    token = token.strip()
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        raise ValueError(f"line {where}: expected a quoted string, got {token!r}")

    def unescape(match: re.Match) -> str:
        char = match.group(1)
        if char in _ESCAPES:
            return _ESCAPES[char]
        if char.isdigit():
            return chr(int(char, 8))
        return char  # \" and \\

    return re.sub(r"\\([0-7]{1,3}|.)", unescape, token[1:-1])


_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file, the header (msgid "") first; obsolete ``#~`` entries are skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None
    pending_flags: set[str] = set()
    start = 0

    def finish() -> None:
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            pending_flags = set()
            continue
        if line.startswith("#"):
            if current is not None and target is not None and target[0] == "msgstr":
                finish()  # a comment after a msgstr starts the next entry
            if line.startswith("#,"):
                pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            if not start:
                start = number
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, value = match.groups()
            if keyword in ("msgctxt", "msgid") and current is not None and target and target[0] == "msgstr":
                finish()
            if current is None:
                current = Entry(line=start or number, flags=pending_flags)
                pending_flags, start = set(), 0
            text = _unquote(value, number)
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index) if index is not None else 0)
                current.msgstr[target[1]] = text
            else:
                target = (keyword, None)
                setattr(current, keyword, text)
        elif line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"line {number}: continuation without a keyword")
            text = _unquote(line, number)
            if target[0] == "msgstr":
                current.msgstr[target[1]] += text
            else:
                setattr(current, target[0], getattr(current, target[0]) + text)
        else:
            raise ValueError(f"line {number}: cannot parse {raw!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    entries = parse_po(PO_PATH)
    assert entries and entries[0].msgid == "", "the catalogue starts with its header"
    return entries


@pytest.fixture(scope="module")
def messages(catalogue) -> list[Entry]:
    return catalogue[1:]


# Python's %-format directives: named %(name)s, positional %s/%d…, and the literal %%.
_DIRECTIVE = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?(?P<flags>[-+ #0]*)(?:\d+|\*)?(?:\.(?:\d+|\*))?(?P<conv>[diouxXeEfFgGcrsa%])"
)


def directives(text: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """Named directives as "name:conversion", and the positional ones in order."""
    named, positional = set(), []
    for match in _DIRECTIVE.finditer(text):
        if match.group("conv") == "%":
            continue
        if match.group("name") is not None:
            named.add(f"{match.group('name')}:{match.group('conv')}")
        else:
            positional.append(match.group("conv"))
    return frozenset(named), tuple(positional)


def _translations(entry: Entry) -> list[tuple[int, str]]:
    return sorted(entry.msgstr.items())


# --- the catalogue itself ----------------------------------------------------------------


def test_header_declares_simplified_chinese_with_one_plural_form(catalogue):
    header = dict(line.split(": ", 1) for line in catalogue[0].msgstr[0].splitlines() if ": " in line)
    assert header["Language"] == "zh_Hans"
    assert header["Content-Type"] == "text/plain; charset=UTF-8"
    assert header["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert "fuzzy" not in catalogue[0].flags


def test_the_catalogue_is_not_empty(messages):
    assert len(messages) > 500
    assert any(entry.is_plural for entry in messages)


def test_every_entry_is_translated(messages):
    missing = [
        str(entry)
        for entry in messages
        if not entry.msgstr or any(not text.strip() for _, text in _translations(entry))
    ]
    assert not missing, "untranslated entries:\n" + "\n".join(missing)


def test_plural_entries_fill_the_single_chinese_form(messages):
    wrong = [str(e) for e in messages if e.is_plural and sorted(e.msgstr) != [0]]
    assert not wrong, "plural entries need exactly msgstr[0]:\n" + "\n".join(wrong)
    singular_with_index = [str(e) for e in messages if not e.is_plural and sorted(e.msgstr) != [0]]
    assert not singular_with_index


def test_no_entry_is_fuzzy(messages):
    fuzzy = [str(entry) for entry in messages if "fuzzy" in entry.flags]
    assert not fuzzy, "fuzzy entries (check the translation, then drop the flag):\n" + "\n".join(fuzzy)


def test_placeholders_match(messages):
    """Every %(name)s of the source is in the translation with the same conversion, and no other."""
    wrong = []
    for entry in messages:
        if "no-python-format" in entry.flags:
            continue
        named, positional = directives(entry.msgid)
        if entry.is_plural:
            plural_named, plural_positional = directives(entry.msgid_plural)
            named |= plural_named
            positional = plural_positional  # the one Chinese form follows the plural
        for _, text in _translations(entry):
            got_named, got_positional = directives(text)
            if got_named != named or got_positional != positional:
                wrong.append(
                    f"{entry}: expects {sorted(named)} {positional}, has {sorted(got_named)} {got_positional}"
                )
    assert not wrong, "placeholder mismatches:\n" + "\n".join(wrong)


def test_translations_are_not_copies_of_the_english(messages):
    copied = [
        str(entry)
        for entry in messages
        if re.search("[A-Za-z]{3}", entry.msgid) and entry.msgstr.get(0) in (entry.msgid, entry.msgid_plural)
    ]
    assert not copied, "entries left in English:\n" + "\n".join(copied)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_msgfmt_check_format_is_clean(tmp_path):
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        ["msgfmt", "--check-format", "-o", str(tmp_path / "out.mo"), str(PO_PATH)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- the compiled catalogue --------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled() -> gnu_gettext.GNUTranslations:
    assert MO_PATH.exists(), "django.mo is missing: run bash locale/update.sh"
    with MO_PATH.open("rb") as handle:
        return gnu_gettext.GNUTranslations(handle)


def _mo_key(entry: Entry, index: int | None = None):
    msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
    return msgid if index is None else (msgid, index)


def test_compiled_catalogue_matches_the_po(messages, compiled):
    """A .mo older than the .po fails here: rerun bash locale/update.sh (or compilemessages)."""
    catalog = compiled._catalog
    stale = []
    expected_keys = {""}
    for entry in messages:
        if entry.is_plural:
            for index, text in _translations(entry):
                key = _mo_key(entry, index)
                expected_keys.add(key)
                if catalog.get(key) != text:
                    stale.append(f"{entry}[{index}]: .mo has {catalog.get(key)!r}")
        else:
            key = _mo_key(entry)
            expected_keys.add(key)
            if catalog.get(key) != entry.msgstr[0]:
                stale.append(f"{entry}: .mo has {catalog.get(key)!r}")
    assert not stale, "django.mo is stale; run bash locale/update.sh:\n" + "\n".join(stale)
    extra = set(catalog) - expected_keys
    assert not extra, f"django.mo has entries the .po no longer has: {sorted(map(str, extra))[:10]}"


def test_compiled_catalogue_answers_through_gettext(messages, compiled):
    for entry in messages:
        if entry.msgctxt is not None:
            continue
        if entry.is_plural:
            for n in (1, 2, 5):
                assert compiled.ngettext(entry.msgid, entry.msgid_plural, n) == entry.msgstr[0]
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr[0]


# --- what the product shows --------------------------------------------------------------


def test_key_strings_come_out_in_chinese():
    from scoring.templatetags.stars import star_label

    with translation.override("zh-hans"):
        assert translation.gettext("My work") == "我的工作"
        assert translation.gettext("Sign in") == "登录"
        assert translation.gettext("Sign out") == "退出"
        assert translation.gettext("Party branch star rating") == "党支部星级管理"
        assert translation.gettext("Unrated") == "未评星"
        assert translation.gettext("Veto item") == "一票否决项"
        assert star_label(3) == "3 星"


def test_domain_terms_follow_the_glossary():
    from branches.models import OrgKind
    from branches.roles import Role

    with translation.override("zh-hans"):
        assert str(OrgKind.COMMITTEE.label) == "机关工委"
        assert str(OrgKind.PARTY_COMMITTEE.label) == "党委"
        assert str(OrgKind.BRANCH.label) == "党支部"
        assert str(Role.BRANCH_SECRETARY.label) == "支部书记"
        assert str(Role.STAFF.label) == "党务工作者"


def test_the_default_language_is_simplified_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override(settings.LANGUAGE_CODE):
        assert translation.gettext("Preliminary review") == "初审"
