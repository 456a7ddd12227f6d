#!/usr/bin/env bash
# Set up if needed, then pan-sharpen the bundled sample scene with `qgis_process` (real QGIS,
# the MMMamba provider loaded from this folder in a throwaway profile) and print where the result
# is together with a short quality summary against the sample's full-resolution reference.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bash scripts/setup.sh

export QT_QPA_PLATFORM=offscreen
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export QGIS_CUSTOM_CONFIG_PATH="$work/profile"
mkdir -p "$work/plugins" "$QGIS_CUSTOM_CONFIG_PATH"
ln -s "$repo" "$work/plugins/mmmamba"
export QGIS_PLUGINPATH="$work/plugins"
export PYTHONPATH="$repo/.venv/lib/python3.11/site-packages${PYTHONPATH:+:$PYTHONPATH}"

mkdir -p "$repo/output"
out="$repo/output/sample_pansharpened.tif"
rm -f "$out"
qgis_process plugins enable mmmamba >/dev/null
start=$(date +%s%N)
qgis_process run mmmamba:pansharpen -- \
  PAN="$repo/resources/sample/pan.tif" MS="$repo/resources/sample/ms.tif" OUTPUT="$out"
end=$(date +%s%N)

echo
echo "Pan-sharpened sample written to: $out"
ms=$(( (end - start) / 1000000 ))
printf 'qgis_process wall time: %d.%03d s\n' $((ms / 1000)) $((ms % 1000))
.venv/bin/python -m backend compare --reference resources/sample/reference.tif --image "$out"
