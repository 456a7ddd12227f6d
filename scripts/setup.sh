#!/usr/bin/env bash
# Idempotent set-up for a Debian 12 machine: QGIS 3.40 LTR (bookworm-backports), GDAL,
# virtual-screen packages for GUI tests, and a project venv (.venv) built from Debian's python3
# with system site packages so that `qgis`, `processing` and `osgeo` stay importable.
# A second run only checks and returns within seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

apt_pkgs_bp=(qgis python3-qgis qgis-providers)
apt_pkgs_main=(gdal-bin python3-gdal python3-venv python3-pip python3-scipy python3-matplotlib
               xvfb xauth imagemagick chromium zip qttools5-dev-tools pyqt5-dev-tools
               gcc libc6-dev)

need_apt=0
for p in "${apt_pkgs_bp[@]}" "${apt_pkgs_main[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || { need_apt=1; break; }
done
qgis_version=$(qgis_process --version 2>/dev/null || true)
if [ "$need_apt" = 1 ] || [[ "$qgis_version" != *"QGIS 3.4"* ]]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  mirror=$(grep -rhoE 'https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
           | grep -v security | head -n1 | tr -d ' ' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb ${mirror%/} bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports "${apt_pkgs_bp[@]}" >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${apt_pkgs_main[@]}" >/dev/null
fi

req="$here/requirements-dev.txt"
stamp="$here/.venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$here/.venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$here/.venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$here/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
qgis_version=$(qgis_process --version 2>/dev/null || true)
echo "set-up ok: ${qgis_version%%$'\n'*}, venv $here/.venv"
