#!/usr/bin/env bash
# Build the installable plugin zip: dist/mmmamba-<version>.zip with the single top folder
# `mmmamba` (the plugin id), as the QGIS plugin manager and plugins.qgis.org expect.
# Ships the plugin, the backend, resources (icon, models, sample) and the compiled translations;
# leaves out tests, benchmarks, scripts, CI and tool configuration, caches and .ts sources.
# Usage: bash scripts/package.sh [output-folder]   (prints the zip's path)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
out_dir=$(mkdir -p "${1:-$here/dist}" && cd "${1:-$here/dist}" && pwd)
version=$(sed -n 's/^version=//p' metadata.txt | tr -d '[:space:]')
[ -n "$version" ] || { echo "package: no version= in metadata.txt" >&2; exit 1; }

# Refresh the compiled translations from their sources when Qt's lrelease is available.
if command -v lrelease >/dev/null 2>&1; then
  for ts in i18n/*.ts; do
    [ -e "$ts" ] || continue
    lrelease -silent "$ts" -qm "${ts%.ts}.qm"
  done
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dest="$stage/mmmamba"
mkdir -p "$dest/i18n"
cp metadata.txt __init__.py "$dest/"
for f in LICENSE README.md; do
  if [ -f "$f" ]; then cp "$f" "$dest/"; fi
done
cp -R plugin backend resources "$dest/"
if compgen -G "i18n/*.qm" >/dev/null; then cp i18n/*.qm "$dest/i18n/"; fi

# Nothing a user does not need: caches, build scripts of resources, GDAL side files, editors'.
find "$dest" \( -name "__pycache__" -o -name ".pytest_cache" -o -name ".ruff_cache" \) \
  -prune -exec rm -rf {} +
find "$dest" \( -name "*.pyc" -o -name "*.pyo" -o -name "*.aux.xml" -o -name ".DS_Store" \
  -o -name "*~" -o -name "*.swp" \) -delete
find "$dest/resources" -name "*.py" -delete

zip_path="$out_dir/mmmamba-$version.zip"
rm -f "$zip_path"
(cd "$stage" && zip -q -r -X "$zip_path" mmmamba)
echo "$zip_path"
