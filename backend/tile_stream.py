"""Batches of tiles through one device's network without the GPU waiting on the host.

`TileStream.submit` launches a batch and returns at once on CUDA: the inputs go to the GPU and
the result comes back to pinned host memory on a stream of their own, each ordered against the
network's kernels by events, so a caller that submits the next batch before it `fetch`es the
last one keeps the GPU busy while it copies, converts and hands results over (before, every
tile's result was copied back synchronously and the next tile's inputs were only sent after it).
Elsewhere (a CPU), `submit` runs the batch to the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Ticket:
    """A submitted batch: its float32 (B, C, H, W) host result, valid once `copied` is done."""

    host: torch.Tensor
    copied: torch.cuda.Event | None


class TileStream:
    """Runs `forward(pan, ms)` on `device` for numpy batches (see the module docstring)."""

    def __init__(
        self, device: torch.device, forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    ) -> None:
        self.device = device
        self.forward = forward
        cuda = device.type == "cuda"
        # inputs and results each on their own stream: the next batch's inputs are not queued
        # behind the last batch's result, which waits for the network
        self.h2d = torch.cuda.Stream(device) if cuda else None
        self.d2h = torch.cuda.Stream(device) if cuda else None

    def submit(self, pan: np.ndarray, ms: np.ndarray) -> Ticket:
        """Start one batch: pan (B, 1, H, W), ms (B, C, H/r, W/r) float32."""
        if self.h2d is None or self.d2h is None:
            with torch.inference_mode():
                p = torch.from_numpy(pan).to(self.device)
                m = torch.from_numpy(ms).to(self.device)
                return Ticket(self.forward(p, m).float().cpu(), None)
        dev = self.device
        with torch.cuda.device(dev), torch.inference_mode():
            compute = torch.cuda.current_stream(dev)
            with torch.cuda.stream(self.h2d):
                p = torch.from_numpy(pan).pin_memory().to(dev, non_blocking=True)
                m = torch.from_numpy(ms).pin_memory().to(dev, non_blocking=True)
                sent = torch.cuda.Event()
                sent.record(self.h2d)
            compute.wait_event(sent)
            # allocated on the input stream, read on the compute stream: not reused before
            p.record_stream(compute)
            m.record_stream(compute)
            out = self.forward(p, m).float()
            ran = torch.cuda.Event()
            ran.record(compute)
            self.d2h.wait_event(ran)
            with torch.cuda.stream(self.d2h):
                host = torch.empty(out.shape, dtype=out.dtype, pin_memory=True)
                host.copy_(out, non_blocking=True)
                copied = torch.cuda.Event()
                copied.record(self.d2h)
            out.record_stream(self.d2h)
        return Ticket(host, copied)

    @staticmethod
    def fetch(ticket: Ticket) -> np.ndarray:
        """The batch's (B, C, H, W) float32 result, waiting for it if it is still running."""
        if ticket.copied is not None:
            ticket.copied.synchronize()
        return ticket.host.numpy()
