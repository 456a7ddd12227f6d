"""One selective-scan function, four engines: CUDA (mamba-ssm), native CPU, chunked, oracle."""

from __future__ import annotations

import torch

from ..device import gradient_scan_engine, scan_engine
from .scan_chunked import selective_scan_chunked
from .scan_native import native_scan
from .scan_oracle import selective_scan_oracle


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None,
    delta_bias: torch.Tensor | None,
    delta_softplus: bool = True,
    engine: str = "auto",
    chunk: int | None = None,
) -> torch.Tensor:
    """S6 scan `h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t`, `y_t = C_t . h_t + D u_t`.

    Args:
        u: (B, D, L) input.
        delta: (B, D, L) raw step sizes (bias and softplus applied inside).
        A: (D, N) negative real state matrix.
        B: (B, G, N, L) input matrices, G groups of D/G channels.
        C: (B, G, N, L) output matrices.
        D: (D,) skip weights or None.
        delta_bias: (D,) step-size bias or None.
        delta_softplus: Apply softplus to `delta + delta_bias`.
        engine: "auto", "triton" (here: mamba-ssm or chunked), "cuda" (mamba-ssm), "native"
            (compiled CPU loop, inference; the chunked scan runs instead when a gradient is
            needed), "chunked" or "oracle" (float64, tests).
        chunk: Tokens per chunk of the chunked engine.

    Returns:
        (B, D, L) float32 (float64 for the oracle).
    """
    name = scan_engine(u.device, engine)
    if name == "triton":
        # the Triton kernels scan whole MI mixers (`scan_triton.mi_scan`); a plain sequence
        # scan goes to mamba-ssm or the chunked scan
        name = gradient_scan_engine(u.device)
    if name == "cuda":
        # imported here only: CPU users never load the CUDA extension
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn

        return selective_scan_fn(
            u.contiguous(),
            delta.contiguous(),
            A.contiguous(),
            B.contiguous(),
            C.contiguous(),
            None if D is None else D.float().contiguous(),
            z=None,
            delta_bias=None if delta_bias is None else delta_bias.float().contiguous(),
            delta_softplus=delta_softplus,
        )
    if name == "oracle":
        return selective_scan_oracle(u, delta, A, B, C, D, delta_bias, delta_softplus)
    if name == "native" and not _needs_grad(u, delta, A, B, C, D, delta_bias):
        return native_scan(u, delta, A, B, C, D, delta_bias, delta_softplus)
    return selective_scan_chunked(u, delta, A, B, C, D, delta_bias, delta_softplus, chunk=chunk)


def _needs_grad(*tensors: torch.Tensor | None) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def selective_scan_from_zero(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    delta_bias: torch.Tensor,
    engine: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inference scan from a zero state that also returns the state after the last token.

    Inputs may be strided views as long as the token axis is contiguous (the CUDA kernel reads
    B and C straight from the rows of the projection output); u, delta, B and C share one dtype
    (float32 or bfloat16), the recurrence runs in float32 either way.

    Args:
        u, delta: (B, D, L) inputs and raw step sizes (softplus(delta + bias) is applied).
        A: (D, N) float32; B, C: (B, G, N, L); D, delta_bias: (D,) float32.
        engine: "cuda" (mamba-ssm), "native" or "chunked".

    Returns:
        y (B, D, L) (u's dtype for "cuda", float32 for "chunked") and the last state (B, D, N).
    """
    if engine == "triton":
        engine = gradient_scan_engine(u.device)
    if engine == "cuda":
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn

        return selective_scan_fn(
            u,
            delta,
            A,
            B,
            C,
            D,
            z=None,
            delta_bias=delta_bias,
            delta_softplus=True,
            return_last_state=True,
        )
    if engine == "native":
        return native_scan(u, delta, A, B, C, D, delta_bias, True, return_last_state=True)
    return selective_scan_chunked(u, delta, A, B, C, D, delta_bias, True, return_last_state=True)
