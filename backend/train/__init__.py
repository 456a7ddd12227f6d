"""Training of MMMamba models on real scenes (Wald's protocol) and the `train` command.

Importing this package is cheap (no torch): `add_cli` registers the command, whose handler loads
the training stack when it runs.
"""

from __future__ import annotations

from .cli import add_cli

__all__ = ["add_cli"]
