"""What QGIS's own Python can run: PyTorch present? A GPU it cannot use?

The plugin never installs anything by itself; it tells the user the exact command instead.
"""

from __future__ import annotations

import importlib.util
import platform
import shutil
import sys
from pathlib import Path

from .i18n import TranslationContext

# The versions the project is tested with (requirements-dev.txt).
TORCH_VERSION = "2.13.0"
SAFETENSORS_VERSION = "0.4.5"
REQUIRED_MODULES = ("torch", "safetensors")

_gpu_notice_given = False


class MMMambaEnvironment(TranslationContext):
    """Translation context of the environment messages."""


def missing_modules() -> list[str]:
    """The Python packages the algorithms need that QGIS's Python cannot import."""
    return [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]


def qgis_python() -> str:
    """Best guess of the Python interpreter QGIS runs (sys.executable is QGIS itself)."""
    system = platform.system()
    if system == "Windows":
        return str(Path(sys.prefix) / "python.exe")
    if system == "Darwin":
        candidate = Path(sys.prefix) / "bin" / "python3"
        return str(candidate) if candidate.exists() else "python3"
    base = getattr(sys, "_base_executable", "") or ""
    if base and Path(base).name.startswith("python"):
        return base
    return shutil.which("python3") or "/usr/bin/python3"


def install_instructions(missing: list[str]) -> str:
    """The message shown when PyTorch (or safetensors) is missing, with exact commands."""
    packages = f"torch=={TORCH_VERSION} safetensors=={SAFETENSORS_VERSION}"
    python = qgis_python()
    lines = [
        MMMambaEnvironment.tr(
            "MMMamba needs PyTorch and safetensors in the Python that QGIS uses "
            "(Python {version}); missing: {missing}. Nothing was installed automatically."
        ).format(version=platform.python_version(), missing=", ".join(missing)),
        MMMambaEnvironment.tr("Close QGIS, install them from a terminal, then start QGIS again:"),
    ]
    if platform.system() == "Windows":
        lines.append(
            MMMambaEnvironment.tr("In the OSGeo4W Shell: python -m pip install {packages}").format(
                packages=packages
            )
        )
    else:
        lines.append(
            MMMambaEnvironment.tr(
                "CPU only (smaller download): {python} -m pip install --user {packages} "
                "--extra-index-url https://download.pytorch.org/whl/cpu"
            ).format(python=python, packages=packages)
        )
        lines.append(
            MMMambaEnvironment.tr(
                "With an NVIDIA GPU: {python} -m pip install --user {packages}"
            ).format(python=python, packages=packages)
        )
        lines.append(
            MMMambaEnvironment.tr(
                "On Debian or Ubuntu, whose system Python refuses pip by default, add "
                "--break-system-packages or use a virtual environment made with "
                "'python3 -m venv --system-site-packages' and start QGIS from it."
            )
        )
    return "\n".join(lines)


def nvidia_gpu_present() -> bool:
    """True if the machine shows an NVIDIA driver, whatever PyTorch can do with it."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def gpu_notice() -> str | None:
    """A one-line explanation when a GPU is present but this PyTorch cannot use it, else None.

    Imports torch, so call it only after `missing_modules()` came back empty.
    """
    if not nvidia_gpu_present():
        return None
    from ..backend.openmp import limit_spinning

    limit_spinning()  # before torch loads
    import torch

    if torch.cuda.is_available():
        if importlib.util.find_spec("mamba_ssm") is None:
            return MMMambaEnvironment.tr(
                "A CUDA GPU is usable but mamba-ssm is not installed: the GPU runs the portable "
                "PyTorch scan, which is slower than the fused CUDA kernel."
            )
        return None
    if torch.version.cuda is None:
        return MMMambaEnvironment.tr(
            "An NVIDIA GPU is present but this PyTorch ({version}) is a CPU-only build; running "
            "on the CPU. Install a CUDA build of PyTorch to use the GPU."
        ).format(version=torch.__version__)
    return MMMambaEnvironment.tr(
        "An NVIDIA GPU is present but PyTorch (CUDA {cuda}) cannot use it (driver too old or "
        "GPU not supported); running on the CPU."
    ).format(cuda=torch.version.cuda)


def gpu_notice_once() -> str | None:
    """`gpu_notice()` the first time it has something to say in this QGIS session, then None."""
    global _gpu_notice_given
    if _gpu_notice_given:
        return None
    notice = gpu_notice()
    if notice is not None:
        _gpu_notice_given = True
    return notice
