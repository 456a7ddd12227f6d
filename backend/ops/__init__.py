"""Numerical kernels of the network: the selective scan and its engines (imports torch)."""
