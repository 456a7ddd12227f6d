"""`python -m backend.train ...`: the `train` command without the rest of the backend's CLI."""

import argparse
import logging
import sys

from .cli import add_cli

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
parser = argparse.ArgumentParser(prog="python -m backend.train")
sub = parser.add_subparsers(dest="command", required=True)
add_cli(sub)
args = parser.parse_args(["train", *sys.argv[1:]])
sys.exit(args.func(args))
