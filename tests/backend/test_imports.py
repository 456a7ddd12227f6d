"""The backend stays free of QGIS: importing it loads neither qgis nor PyQt5 nor torch."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    return set(out.split())


def test_import_backend_loads_no_qgis_and_no_torch() -> None:
    mods = _modules_after("import backend")
    assert not {m for m in mods if m == "qgis" or m.startswith("qgis.")}
    assert "PyQt5" not in mods
    assert "torch" not in mods


def test_cpu_inference_never_imports_triton() -> None:
    """The Triton kernels are imported on first use on a GPU only."""
    mods = _modules_after(
        "import torch; from backend.model.network import MMMamba; "
        "from backend.model.config import MMMambaConfig; "
        "MMMamba(MMMambaConfig.tiny()).eval()(torch.rand(1, 1, 16, 16), torch.rand(1, 4, 4, 4))"
    )
    assert "torch" in mods
    assert not {m for m in mods if m == "triton" or m.startswith("triton.")}
