#!/usr/bin/env bash
# Refresh the translation sources from the code (pylupdate5, keeps existing translations and
# drops strings no longer in the code), then compile them (lrelease).
# Needs pyqt5-dev-tools and qttools5-dev-tools (scripts/setup.sh installs both).
# After running it, translate the new or changed entries in i18n/*.ts (Qt Linguist or an
# editor: fill <translation> and remove type="unfinished"), then run it again to compile.
set -euo pipefail
cd "$(dirname "$0")/.."
locales=(zh_CN fr)
sources=(__init__.py plugin/*.py plugin/algorithms/*.py)
ts_files=()
for locale in "${locales[@]}"; do ts_files+=("i18n/mmmamba_${locale}.ts"); done
pylupdate5 -noobsolete "${sources[@]}" -ts "${ts_files[@]}"
for ts in "${ts_files[@]}"; do
  lrelease -silent "$ts" -qm "${ts%.ts}.qm"
  unfinished=$(grep -c 'type="unfinished"' "$ts" || true)
  echo "$ts: $unfinished string(s) still to translate"
done
