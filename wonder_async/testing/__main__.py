"""``python -m wonder_async.testing``: the standalone emulator."""

from __future__ import annotations

import argparse

from ._standalone import add_emulator_arguments, run_emulator

parser = argparse.ArgumentParser(prog="python -m wonder_async.testing")
add_emulator_arguments(parser)
raise SystemExit(run_emulator(parser.parse_args()))
