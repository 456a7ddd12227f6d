"""Choice of the torch device and of the selective-scan engine that runs on it."""

from __future__ import annotations

import importlib.util
import logging
import os
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

ENGINES = ("auto", "triton", "cuda", "native", "chunked", "oracle")
_logged: set[tuple[str, str]] = set()


def resolve_device(spec: str = "auto") -> torch.device:
    """Turn a device name into a `torch.device`.

    Args:
        spec: "auto" (CUDA when available, else CPU), "cpu", "cuda", "cuda:N" or "mps".

    Returns:
        The device.

    Raises:
        InputError: If the device is unknown or not available on this machine.
    """
    import torch

    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        log.info("device: %s (auto)", dev)
        return dev
    try:
        dev = torch.device(spec)
    except RuntimeError as exc:
        raise InputError(f"Unknown device {spec!r}: use auto, cpu, cuda or cuda:N.") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"Device {spec!r} asked for but no CUDA GPU is visible: use cpu or auto.")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise InputError("Device 'mps' asked for but Metal is not available: use cpu or auto.")
    return dev


def cuda_scan_available() -> bool:
    """True if mamba-ssm's CUDA selective scan can be imported (imports it: call on GPU only)."""
    if importlib.util.find_spec("mamba_ssm") is None:
        return False
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn  # noqa: F401
    except (ImportError, OSError) as exc:  # a wheel built for another CUDA or torch
        log.warning("mamba-ssm is installed but cannot be loaded (%s); using the chunked scan", exc)
        return False
    return True


def triton_scan_available(dev_type: str) -> bool:
    """True if the Triton MI scan can run on this device type: CUDA with Triton installed, or
    any device under Triton's interpreter (`TRITON_INTERPRET=1`, used by the CPU tests)."""
    from .ops.scan_triton import triton_available

    if not triton_available():
        return False
    return dev_type == "cuda" or os.environ.get("TRITON_INTERPRET") == "1"


def native_scan_available() -> bool:
    """True if the compiled CPU scan can be used (builds it on the first call)."""
    from .ops.scan_native import native_scan_available as available

    return available()


def scan_engine(device: torch.device | str, requested: str = "auto") -> str:
    """The selective-scan engine to use on a device; logs the choice once per device and engine.

    Args:
        device: Where the tensors live.
        requested: One of `ENGINES`; "auto" picks the Triton MI scan on a CUDA device when
            Triton can be imported, else mamba-ssm's CUDA kernel when it can be imported, the
            compiled CPU scan on a CPU when a C compiler built it, otherwise the chunked PyTorch
            scan. The Triton and native engines are for inference: wherever a gradient is needed
            mamba-ssm's kernel (CUDA) or the chunked scan runs in their place.

    Returns:
        "triton", "cuda", "native", "chunked" or "oracle".
    """
    if requested not in ENGINES:
        raise InputError(f"Unknown scan engine {requested!r}: use one of {', '.join(ENGINES)}.")
    dev_type = device if isinstance(device, str) else device.type
    if requested == "auto":
        if dev_type == "cuda" and triton_scan_available(dev_type):
            engine = "triton"
        elif dev_type == "cuda" and cuda_scan_available():
            engine = "cuda"
        elif dev_type == "cpu" and native_scan_available():
            engine = "native"
        else:
            engine = "chunked"
    else:
        engine = requested
        if engine == "cuda" and (dev_type != "cuda" or not cuda_scan_available()):
            raise InputError(
                "The 'cuda' scan engine needs a CUDA device and mamba-ssm installed; "
                "use engine 'auto' or 'chunked'."
            )
        if engine == "triton" and not triton_scan_available(dev_type):
            raise InputError(
                "The 'triton' scan engine needs a CUDA device and Triton installed; "
                "use engine 'auto', 'cuda' or 'chunked'."
            )
        if engine == "native" and (dev_type != "cpu" or not native_scan_available()):
            raise InputError(
                "The 'native' scan engine needs the CPU and a C compiler (cc, gcc or clang) "
                "to build it once; use engine 'auto' or 'chunked'."
            )
    key = (dev_type, engine)
    if key not in _logged:
        _logged.add(key)
        log.info("selective scan engine: %s on %s", engine, dev_type)
    return engine


def training_scan_engine(device: torch.device | str, requested: str = "auto") -> str:
    """The engine a training run uses, as recorded in model cards.

    The native engine has no gradient: its runs train on the chunked scan and use the native
    one only for validation, and the name says so.
    """
    engine = scan_engine(device, requested)
    if engine == "native":
        return "chunked (training steps), native (validation)"
    if engine == "triton":
        steps = gradient_scan_engine(device)
        return f"{steps} (training steps), triton (validation)"
    return engine


def gradient_scan_engine(device: torch.device | str) -> str:
    """The engine that runs wherever a gradient is needed: mamba-ssm on CUDA when it can be
    imported, else the chunked scan (the Triton and native engines have no backward)."""
    dev_type = device if isinstance(device, str) else device.type
    return "cuda" if dev_type == "cuda" and cuda_scan_available() else "chunked"
