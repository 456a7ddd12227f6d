#!/usr/bin/env bash
# Set up if needed, then lint and run the whole test suite: backend tests without QGIS (the
# backend must not need it), then plugin tests in real QGIS (pytest-qgis, qgis_process, Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
export GDAL_PAM_ENABLED=NO  # never write .aux.xml files beside the inputs
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -p no:pytest_qgis -W "ignore::pytest.PytestConfigWarning" tests/backend "$@"
.venv/bin/python -m pytest tests/plugin "$@"
