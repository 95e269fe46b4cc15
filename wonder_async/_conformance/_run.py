"""One conformance run: the flow against the gateway, the inference, the same flow against
an in-process emulator playing the inferred readings, and the files.

Files written to the output directory (nothing else is written anywhere):

* ``readings.json`` -- ``{"format": FILE_FORMAT, "readings": {NAME: VALUE | null |
  "unknown:..."}, ...}``, the file ``wonder emulator --readings`` loads (``null`` = not
  observed and ``unknown:`` = none of the known values keep the emulator's default); the
  ``findings`` key has each reading's request id and evidence;
* ``shapes.json`` -- the shape report (:mod:`._shapes`);
* ``log.jsonl`` -- every request, answer and webhook, card numbers, CVVs, keys and
  signatures removed.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TextIO
from urllib.parse import urlsplit

import attrs

from .._errors import ConfigurationError
from .._signing import PrivateKeyInput, Signer
from .._wire import ENVIRONMENTS
from ..testing._readings import FILE_FORMAT, READINGS
from . import _shapes
from ._calls import Budget, Call, Caller, CallLog, redact_text
from ._cleanup import Cleanup
from ._flow import Flow, FlowSettings, VerifyHook
from ._infer import Finding, infer
from ._listener import Listener, order_reference

__all__ = ["Options", "Result", "new_run_id", "refuse_production", "run"]

_PRODUCTION_HOST: Final = urlsplit(ENVIRONMENTS["production"]).hostname or ""


def refuse_production(base_url: str) -> None:
    """:raises ConfigurationError: when ``base_url`` is Wonder's production host, however
    written (case, a trailing dot, an explicit port, userinfo)."""
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if host == _PRODUCTION_HOST:
        raise ConfigurationError(
            f"base_url: {_PRODUCTION_HOST} is Wonder's production gateway; wonder conformance "
            "moves money and runs only against the sandbox, alpha or a gateway of your own "
            "(--environment sandbox, or --base-url)"
        )


def new_run_id() -> str:
    """A fresh run id: 8 random hex digits (every reference number of the run holds it)."""
    return secrets.token_hex(4)


@attrs.define
class Options:
    base_url: str
    app_id: str
    private_key: PrivateKeyInput
    out_dir: Path
    settings: FlowSettings
    budget: Budget = attrs.field(factory=Budget)
    #: ``(host, port)`` the webhook listener binds; only with ``settings.webhook_url``.
    listen: tuple[str, int] | None = None
    webhook_wait: float = 120.0
    #: Run the flow against an in-process emulator too, for the shape report.
    compare: bool = True


@attrs.define
class Result:
    findings: dict[str, Finding]
    cleanup: Cleanup
    files: dict[str, Path]
    stopped: str | None
    calls: int
    seconds: float
    emulator_note: str | None = None


Say = Callable[[str], None]


def _printer(stream: TextIO) -> Say:
    def say(text: str) -> None:
        print(text, file=stream, flush=True)

    return say


def _verify_printer(say: Say, wait: float) -> VerifyHook:
    async def on_verify(url: str, token: dict[str, Any]) -> None:
        say(f"3-D Secure: open this page and complete the challenge (waiting up to {wait:g} s):")
        say(f"verify_url {url}")

    return on_verify


def readings_document(findings: dict[str, Finding], meta: dict[str, Any]) -> dict[str, Any]:
    """The readings file: what :meth:`Readings.load` reads, plus the evidence."""
    return {
        "format": FILE_FORMAT,
        "readings": {name: f.value for name, f in findings.items()},
        "findings": {
            name: {"status": f.status, "request_id": f.request_id, "evidence": f.evidence}
            for name, f in findings.items()
        },
        **meta,
    }


def _chosen(findings: dict[str, Finding]) -> dict[str, str]:
    """The known values, for the emulator that plays this gateway."""
    return {
        n: f.value
        for n, f in findings.items()
        if f.value is not None and f.value in READINGS[n].names
    }


def _by_step(calls: list[Call]) -> dict[str, tuple[str, list[Any]]]:
    out: dict[str, tuple[str, list[Any]]] = {}
    for call in calls:
        if not call.answered or call.step.startswith("cleanup."):
            continue
        request = f"{call.method} {call.uri.split('?')[0]}"
        out.setdefault(call.step, (request, []))[1].append(
            call.body if call.text is None else call.text
        )
    return out


def _webhook_shapes(listener: Listener | None) -> dict[str, list[Any]]:
    """The first delivery of each webhook (action and order) of the run, by a name that is
    the same in both runs (``webhook order.paid (sale)``): later deliveries depend on how
    long each run listened."""
    out: dict[str, list[Any]] = {}
    if listener is not None:
        for d in listener.deliveries:
            ref = order_reference(d.body) or ""
            if not ref.startswith(listener.marker):
                continue
            name = f"webhook {d.action or '?'} ({ref[len(listener.marker) + 1 :]})"
            out.setdefault(name, [d.body])
    return out


async def _emulator_run(
    options: Options, chosen: dict[str, str], with_webhooks: bool
) -> tuple[list[Call], Listener | None, str | None]:
    """The same flow against an in-process emulator playing ``chosen``."""
    from ..testing import Emulator

    emu = Emulator(readings=chosen, pending_seconds=0.2, dashboard=False)
    emu.webhook_retry_delays = (0.05, 0.1, 0.2)
    log = CallLog(None)
    async with emu:
        assert emu.private_key_pem is not None
        s = options.settings
        settings = FlowSettings(
            run_id=s.run_id,
            currency=s.currency,
            card=s.card,
            decline_card=s.decline_card,
            three_ds_wait=5.0,
            settle_wait=5.0,
            poll_interval=0.05,
        )
        listener = None
        if with_webhooks:
            listener = Listener("127.0.0.1", 0, settings.marker, log)
            await listener.start()
            settings.webhook_url = listener.url
        caller = Caller(
            emu.base_url,
            Signer(emu.app_id, emu.private_key_pem),
            Budget(call_timeout=10.0, max_calls=options.budget.max_calls),
            log,
        )

        async def approve(url: str, token: dict[str, Any]) -> None:
            verify = token.get("verify_uuid")
            if isinstance(verify, str):
                emu.settle_challenge(verify, "success")

        flow = Flow(caller, settings, approve, lambda _text: None)
        try:
            await flow.run()
            if listener is not None:
                await emu.wait_for_webhooks()
                await listener.wait(2.0)
        finally:
            await caller.close()
            if listener is not None:
                await listener.stop()
    return caller.calls, listener, None


def _shape_report(
    gateway_calls: list[Call],
    gateway_hooks: Listener | None,
    emulator_calls: list[Call] | None,
    emulator_hooks: Listener | None,
) -> dict[str, dict[str, Any]]:
    gateway = _by_step(gateway_calls)
    emulator = _by_step(emulator_calls) if emulator_calls is not None else {}
    ops: dict[str, tuple[str, _shapes.Shape, _shapes.Shape | None]] = {}
    for step, (request, bodies) in gateway.items():
        other = emulator.get(step)
        theirs = _shapes.shape_of(other[1]) if other is not None else None
        ops[step] = (request, _shapes.shape_of(bodies), theirs)
    hooks, their_hooks = _webhook_shapes(gateway_hooks), _webhook_shapes(emulator_hooks)
    for name, bodies in hooks.items():
        mine = their_hooks.get(name)
        ops[name] = (
            "POST (webhook)",
            _shapes.shape_of(bodies),
            _shapes.shape_of(mine) if mine is not None else None,
        )
    return _shapes.report(ops)


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


async def run(
    options: Options,
    *,
    stream: TextIO | None = None,
    on_verify: VerifyHook | None = None,
) -> Result:
    """Run the flow, infer the readings, compare shapes and write the files."""
    say = _printer(stream or sys.stdout)
    refuse_production(options.base_url)
    settings = options.settings
    signer = Signer(options.app_id, options.private_key)
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "readings": out / "readings.json",
        "shapes": out / "shapes.json",
        "log": out / "log.jsonl",
    }
    log = CallLog(files["log"])
    started = time.monotonic()
    meta = {
        "run_id": settings.run_id,
        "base_url": options.base_url,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    log.write({"kind": "run", **meta})
    listener: Listener | None = None
    caller = Caller(options.base_url, signer, options.budget, log)
    try:
        if settings.webhook_url:
            host, port = options.listen or ("127.0.0.1", 8765)
            listener = Listener(host, port, settings.marker, log)
            await listener.start()
            say(f"webhooks: listening on {host}:{listener.port}; expecting {settings.webhook_url}")
        say(f"run {settings.run_id} against {options.base_url} (references {settings.marker}-*)")
        flow = Flow(
            caller, settings, on_verify or _verify_printer(say, settings.three_ds_wait), say
        )
        await flow.run()
        if listener is not None and flow.created_orders:
            wait = max(0.0, min(options.webhook_wait, options.budget.remaining()))
            if listener.retry is None:
                say(f"webhooks: waiting up to {wait:g} s for the retry of the webhook answered 503")
            await listener.wait(wait)
    finally:
        await caller.close()
        if listener is not None:
            await listener.stop()
    findings = infer(flow, listener)
    _write_json(files["readings"], readings_document(findings, meta))
    note = None
    emulator_calls: list[Call] | None = None
    emulator_hooks: Listener | None = None
    if options.compare:
        try:
            emulator_calls, emulator_hooks, note = await _emulator_run(
                options, _chosen(findings), listener is not None
            )
        except Exception as exc:  # the report still has the gateway's side
            note = redact_text(f"the emulator run failed: {type(exc).__name__}: {exc}")
    operations = _shape_report(caller.calls, listener, emulator_calls, emulator_hooks)
    shapes = {
        "format": _shapes.SHAPES_FORMAT,
        **meta,
        "emulator_readings": _chosen(findings),
        "note": note,
        "operations": operations,
    }
    _write_json(files["shapes"], shapes)
    log.write({"kind": "findings", "readings": {n: f.value for n, f in findings.items()}})
    log.close()
    result = Result(
        findings,
        flow.cleanup,
        files,
        flow.stopped,
        options.budget.calls,
        time.monotonic() - started,
        note,
    )
    _report(say, result, operations)
    return result


def _report(say: Say, result: Result, operations: dict[str, dict[str, Any]]) -> None:
    rows = [("reading", "emulator default", "observed", "request id")]
    for name, f in result.findings.items():
        shown = "not observed" if f.value is None else f.value
        shown = shown if len(shown) <= 44 else shown[:43] + "…"
        rows.append((name, READINGS[name].default, shown, f.request_id or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    say("")
    for i, row in enumerate(rows):
        say("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            say("  ".join("-" * w for w in widths))
    differing = {
        step: op
        for step, op in operations.items()
        if op.get("emulator_lacks") or op.get("emulator_invents") or op.get("types_differ")
    }
    say("")
    say(f"shapes: {len(operations)} operations, {len(differing)} where the emulator differs")
    for step, op in differing.items():
        parts = []
        for key, label in (("emulator_lacks", "lacks"), ("emulator_invents", "invents")):
            if op[key]:
                parts.append(
                    f"{label} {', '.join(op[key][:6])}" + (" …" if len(op[key]) > 6 else "")
                )
        if op["types_differ"]:
            parts.append("types " + ", ".join(d["path"] for d in op["types_differ"][:6]))
        say(f"  {step}: " + "; ".join(parts))
    if result.emulator_note:
        say(f"  ({result.emulator_note})")
    say("")
    for line in result.cleanup.done:
        say(f"cleaned up: {line}")
    for line in result.cleanup.left:
        say(f"left behind: {line}")
    if result.stopped:
        say(f"the run stopped early: {result.stopped}")
    say("")
    say(f"{result.calls} calls in {result.seconds:.1f} s. Files:")
    for path in result.files.values():
        say(f"  {path}")
    say(
        "Send them to the project: open an issue on the wonder-gateway tracker titled "
        "'conformance: <environment>' and attach readings.json, "
        "shapes.json and log.jsonl (card numbers, CVVs, keys and signatures are already "
        "removed; read them first if you like). To make the emulator answer like this gateway: "
        f"wonder emulator --readings {result.files['readings']}"
    )
