#!/usr/bin/env bash
# Refresh the Simplified Chinese catalogue after source strings changed.
#
#   bash locale/update.sh            # from anywhere; uses .venv/bin/python
#   PYTHON=python3 bash locale/update.sh
#
# 1. makemessages collects the strings (same options every time, so diffs stay small),
#    keeping existing translations and adding new msgids with an empty msgstr;
# 2. locale/fix_po.py un-flags prose that xgettext mistook for format strings and lists
#    every entry that still needs a translator (empty or fuzzy);
# 3. compilemessages builds django.mo (msgfmt --check-format).
# Then translate what step 2 listed, run this script again, and check with
#   .venv/bin/pytest tests/test_translations.py -q
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
IGNORE=(--ignore=.venv --ignore=staticfiles --ignore=test-output --ignore=tests)

"$PY" manage.py makemessages -l zh_Hans --no-location "${IGNORE[@]}"
"$PY" locale/fix_po.py locale/zh_Hans/LC_MESSAGES/django.po

# JavaScript catalogue, only once some script under static/js calls gettext().
if grep -qs 'gettext(' static/js/*.js; then
    "$PY" manage.py makemessages -d djangojs -l zh_Hans --no-location "${IGNORE[@]}"
    "$PY" locale/fix_po.py locale/zh_Hans/LC_MESSAGES/djangojs.po
fi

"$PY" manage.py compilemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --ignore=test-output
