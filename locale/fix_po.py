"""Tidy a catalogue after ``makemessages``; run by ``locale/update.sh``.

xgettext flags every msgid that contains a ``%`` as ``python-format``, so prose such as
"allows at most 30% five-star branches" is taken for a format string ("% f") and
``msgfmt --check-format`` then rejects any natural translation of it. Such entries are
never %-interpolated, so this script flags them ``no-python-format`` instead. msgmerge
marks an entry fuzzy when its format flag differs from the template's; that fuzziness is
lifted only when the previous msgid (``#|``) is the entry's own msgid, i.e. when the
flag is the only thing that changed.

Finally it lists the entries that still need a translator: empty or fuzzy.

Usage: python locale/fix_po.py locale/zh_Hans/LC_MESSAGES/django.po
"""

import re
import sys
from pathlib import Path

# A real python-format directive: %(name)..., %%, or a positional conversion without the
# space flag ("% f" in "30% five" is English prose, not a directive).
REAL_DIRECTIVE = re.compile(r"%(?:\(|%|[-+#0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa])")


def _string(lines: list[str], keyword: str) -> str | None:
    """The joined value of ``keyword`` ("msgid", "#| msgid") in an entry's lines."""
    value = None
    for line in lines:
        if value is None:
            if line.startswith(keyword + ' "'):
                value = line[len(keyword) + 1 :]
                value = _unquote(value)
        elif line.startswith(('"', '#| "')):
            value += _unquote(line.removeprefix("#| "))
        else:
            break
    return value


def _unquote(quoted: str) -> str:
    body = quoted.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def fix_block(block: str) -> tuple[str, str | None]:
    """Return the fixed block and, if it still needs a translator, its msgid."""
    lines = block.split("\n")
    msgid = _string(lines, "msgid")
    if not msgid:  # the header, or an obsolete (#~) entry
        return block, None
    flag_index = next((i for i, line in enumerate(lines) if line.startswith("#,")), None)
    flags = [f.strip() for f in lines[flag_index][2:].split(",")] if flag_index is not None else []
    if "python-format" in flags and not REAL_DIRECTIVE.search(msgid):
        flags = ["no-python-format" if f == "python-format" else f for f in flags]
        previous = _string(lines, "#| msgid")
        if "fuzzy" in flags and previous in (None, msgid):
            flags.remove("fuzzy")
            lines = [line for line in lines if not line.startswith("#|")]
            flag_index = next((i for i, line in enumerate(lines) if line.startswith("#,")), None)
        lines[flag_index] = "#, " + ", ".join(flags)
    fixed = "\n".join(lines)
    empty = re.search(r'^msgstr(?:\[\d+\])? ""$', fixed, re.M) and not re.search(
        r'^msgstr(?:\[\d+\])? ""\n"', fixed, re.M
    )
    needs_work = "fuzzy" in flags or bool(empty)
    return fixed, msgid if needs_work else None


def main(path: str) -> int:
    po = Path(path)
    blocks = po.read_text(encoding="utf-8").split("\n\n")
    fixed, todo = [], []
    for block in blocks:
        new, pending = fix_block(block)
        fixed.append(new)
        if pending is not None:
            todo.append(pending)
    po.write_text("\n\n".join(fixed), encoding="utf-8")
    if todo:
        print(f"{po}: {len(todo)} entries need a translation (empty or fuzzy):")
        for msgid in todo:
            print(f"  {msgid!r}")
    else:
        print(f"{po}: every entry is translated.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
