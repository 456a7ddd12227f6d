"""Backend test settings: the Triton kernels run on the CPU through Triton's interpreter.

Set before any test imports Triton: its `jit` decorator reads the variable when a kernel module
is imported.
"""

import os

os.environ.setdefault("TRITON_INTERPRET", "1")
