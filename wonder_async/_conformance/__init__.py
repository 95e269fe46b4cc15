"""``wonder conformance``: run a short, bounded flow against a sandbox gateway, decide which
reading of :data:`~wonder_async.testing._readings.READINGS` it follows, and write a readings
file the emulator loads, a shape report and a redacted log.

:mod:`._calls` (raw signed calls, budget, redaction), :mod:`._flow` (the steps),
:mod:`._cleanup` (undoing what a run created; reading an order's transactions),
:mod:`._listener` (webhooks), :mod:`._infer` (one rule per reading), :mod:`._shapes` (the
shape report), :mod:`._run` (one run and its files).
"""

from __future__ import annotations

from ._calls import Budget as Budget
from ._calls import redact as redact
from ._flow import FlowSettings as FlowSettings
from ._infer import RULES as RULES
from ._infer import Finding as Finding
from ._run import Options as Options
from ._run import Result as Result
from ._run import new_run_id as new_run_id
from ._run import refuse_production as refuse_production
from ._run import run as run

__all__ = [
    "RULES",
    "Budget",
    "Finding",
    "FlowSettings",
    "Options",
    "Result",
    "new_run_id",
    "redact",
    "refuse_production",
    "run",
]
