"""Inference: which value of each reading (:data:`~wonder_async.testing._readings.READINGS`)
the gateway's answers show.

Each rule looks at the calls of the flow (and the webhooks that arrived) and gives a
:class:`Finding`: a known value of the reading, ``None`` (not observed: the step that shows it
did not run or got no answer) or ``"unknown:<what was seen>"`` (none of the known values).
A rule names the request id of the call that shows it and says what it saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from ..testing._readings import READINGS
from ._calls import Call, redact_text
from ._cleanup import amount_of, find_transaction, is_refund, transactions
from ._flow import Flow
from ._listener import Delivery, Listener

__all__ = ["RULES", "Finding", "infer"]

UNKNOWN: Final = "unknown:"


@attrs.define
class Finding:
    """What the run decided for one reading."""

    name: str
    value: str | None
    request_id: str | None = None
    evidence: str = ""

    @property
    def status(self) -> str:
        if self.value is None:
            return "not observed"
        if self.value.startswith(UNKNOWN):
            return "none of the known values"
        return "observed"


def _unknown(what: str) -> str:
    return UNKNOWN + redact_text(what)[:200]


@attrs.define
class Seen:
    """What the inference reads: the flow's calls and facts, and the webhooks."""

    calls: dict[str, Call]
    facts: dict[str, Any]
    listener: Listener | None

    def call(self, step: str) -> Call | None:
        call = self.calls.get(step)
        return call if call is not None and call.answered else None


def _refusal_kind(call: Call) -> str:
    if call.ok:
        return "accepted"
    if call.status is not None and call.status >= 400:
        return "http"
    return "envelope"


def _errors(seen: Seen) -> Finding:
    found = [
        (step, c)
        for step in ("orders.get_missing", "orders.create_refused")
        if (c := seen.call(step)) is not None
    ]
    if not found:
        return Finding("errors", None, evidence="neither refused request got an answer")
    kinds = {step: _refusal_kind(c) for step, c in found}
    evidence = "; ".join(f"{step}: {c.summary()}" for step, c in found)
    request_id = found[0][1].request_id
    refusals = {k for k in kinds.values() if k != "accepted"}
    if len(refusals) == 1 and "accepted" not in kinds.values():
        return Finding("errors", refusals.pop(), request_id, evidence)
    return Finding("errors", _unknown(evidence), request_id, evidence)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null" if value is None else type(value).__name__


def _amounts(seen: Seen) -> Finding:
    for step in ("orders.get_after_refund", "orders.get_by_reference", "payments.charge"):
        call = seen.call(step)
        order = call.order if call is not None else None
        if order is None:
            continue
        assert call is not None
        types: dict[str, set[str]] = {}
        for key in ("initial_total", "paid_total"):
            if key in order and order[key] is not None:
                types.setdefault(key, set()).add(_json_type(order[key]))
        for t in transactions(order):
            if t.get("amount") is not None:
                types.setdefault("transactions[].amount", set()).add(_json_type(t["amount"]))
        if not types:
            continue
        evidence = f"{step}: " + ", ".join(f"{k} {'/'.join(sorted(v))}" for k, v in types.items())
        every = set().union(*types.values())
        if every == {"number"}:
            return Finding("amounts", "number", call.request_id, evidence)
        if every == {"string"}:
            return Finding("amounts", "string", call.request_id, evidence)
        return Finding("amounts", _unknown(evidence), call.request_id, evidence)
    return Finding("amounts", None, evidence="no order with amounts was answered")


def _refunds(seen: Seen) -> Finding:
    first = seen.call("orders.refund")
    if first is None or not first.ok:
        why = first.summary() if first else "the partial refund was not sent"
        return Finding("refunds", None, first.request_id if first else None, why)
    sale = seen.facts.get("sale_uuid")
    after = seen.call("orders.get_after_refund")
    for call in (first, after):
        refunds = [t for t in transactions(call.order if call else None) if is_refund(t)]
        if not refunds or call is None:
            continue
        t = refunds[0]
        amount = amount_of(t.get("amount"))
        link = t.get("original_transaction_uuid")
        sign = "none" if amount is None else "negative" if amount < 0 else "positive"
        evidence = (
            f"{call.step}: Refund transaction amount {t.get('amount')!r} ({sign}), "
            f"original_transaction_uuid {'the sale' if link == sale else repr(link)}"
        )
        if amount is not None and amount > 0 and link == sale:
            return Finding("refunds", "linked", call.request_id, evidence)
        if amount is not None and amount < 0 and not link:
            return Finding("refunds", "negative_unlinked", call.request_id, evidence)
        return Finding("refunds", _unknown(evidence), call.request_id, evidence)
    evidence = f"the refund was taken ({first.summary()}) but no Refund transaction shows"
    return Finding("refunds", _unknown(evidence), first.request_id, evidence)


def _declines(seen: Seen) -> Finding:
    call = seen.call("payments.declined")
    if call is None:
        return Finding("declines", None, evidence="no charge of a declining card was answered")
    first = find_transaction(call.order, None)
    if call.refused:
        if first is not None and first.get("success") is False:
            evidence = f"refused ({call.summary()}) with data.order holding the failed transaction"
            return Finding("declines", "http", call.request_id, evidence)
        evidence = f"refused ({call.summary()}) without a failed transaction in data.order"
        return Finding("declines", _unknown(evidence), call.request_id, evidence)
    if first is None:
        evidence = f"{call.summary()} without a transaction"
        return Finding("declines", _unknown(evidence), call.request_id, evidence)
    final = seen.facts.get("declined_settled_txn") or first
    evidence = (
        f"{call.summary()}, transaction success {first.get('success')!r}, is_pending "
        f"{first.get('is_pending')!r}, resp_code "
        f"{(final.get('payment_data') or {}).get('resp_code')!r}"
    )
    if first.get("success") is not True and first.get("is_pending") is not False:
        # Pending first (charges=pending): how a decline is answered was not shown.
        settled = "settled declined" if final.get("success") is False else "did not settle"
        evidence += f"; the charge came back pending and {settled}, so how a decline is "
        evidence += "answered was not seen"
        return Finding("declines", None, call.request_id, evidence)
    if first.get("success") is False and first.get("is_pending") is False:
        return Finding("declines", "success_false", call.request_id, evidence)
    return Finding("declines", _unknown(evidence), call.request_id, evidence)


def _charges(seen: Seen) -> Finding:
    call = seen.call("payments.charge")
    if call is None or call.order is None:
        why = call.summary() if call else "no charge was answered"
        return Finding("charges", None, call.request_id if call else None, why)
    txn = find_transaction(call.order, None)
    if txn is None:
        evidence = f"{call.summary()} without a transaction"
        return Finding("charges", _unknown(evidence), call.request_id, evidence)
    success, pending = txn.get("success"), txn.get("is_pending")
    evidence = f"charge answer: success {success!r}, is_pending {pending!r}"
    if success is True and pending is not True:
        return Finding("charges", "immediate", call.request_id, evidence)
    if success is not True and pending is not False:
        settled = seen.facts.get("payments.charge.settled")
        if settled is None:
            evidence += "; still pending when the run stopped polling"
        else:
            evidence += f"; settled: success {settled.get('success')!r}"
        return Finding("charges", "pending", call.request_id, evidence)
    return Finding("charges", _unknown(evidence), call.request_id, evidence)


def _codes(call: Call) -> set[str]:
    return {str(v) for v in (call.code, call.error_code) if v is not None}


def _duplicate_refund(seen: Seen) -> Finding:
    first, again = seen.call("orders.refund"), seen.call("orders.refund_repeat")
    if first is None or not first.ok or again is None:
        return Finding("duplicate_refund", None, evidence="the same refund was not sent twice")
    if again.refused:
        evidence = f"the repeated refund: {again.summary()}"
        if "100701" in _codes(again):
            return Finding("duplicate_refund", "refuse", again.request_id, evidence)
        return Finding("duplicate_refund", _unknown(evidence), again.request_id, evidence)
    wanted = (
        amount_of(again.request["refund"]["amount"]) if isinstance(again.request, dict) else None
    )
    refunds = [
        t
        for t in transactions(again.order)
        if is_refund(t) and (a := amount_of(t.get("amount"))) is not None and abs(a) == wanted
    ]
    evidence = f"the repeated refund was taken ({again.summary()}): {len(refunds)} such refunds"
    if len(refunds) >= 2:
        return Finding("duplicate_refund", "allow", again.request_id, evidence)
    return Finding("duplicate_refund", _unknown(evidence), again.request_id, evidence)


def _voids(seen: Seen) -> Finding:
    call = seen.call("orders.void")
    auth = seen.facts.get("auth_uuid")
    if call is None or not call.ok:
        why = call.summary() if call else "no pre-authorisation was voided"
        return Finding("voids", None, call.request_id if call else None, why)
    txn = find_transaction(call.order, auth)
    if txn is None:
        evidence = f"void answer {call.summary()} without the transaction"
        return Finding("voids", _unknown(evidence), call.request_id, evidence)
    state = (txn.get("payment_data") or {}).get("transaction_state")
    evidence = (
        f"void answer: allow_void {txn.get('allow_void')!r}, voided_at "
        f"{'set' if txn.get('voided_at') else repr(txn.get('voided_at'))}, void_is_pending "
        f"{txn.get('void_is_pending')!r}, transaction_state {state!r}"
    )
    if (
        txn.get("allow_void") is False
        and txn.get("voided_at")
        and state == "voided"
        and (txn.get("void_is_pending") is not True)
    ):
        return Finding("voids", "marked", call.request_id, evidence)
    if (
        txn.get("void_is_pending") is True
        and txn.get("allow_void") is False
        and (not txn.get("voided_at"))
    ):
        settled = seen.facts.get("void.settled")
        evidence += "; " + (
            "voided_at set after it settled"
            if settled and settled.get("voided_at")
            else "not settled when the run stopped polling"
        )
        return Finding("voids", "pending", call.request_id, evidence)
    return Finding("voids", _unknown(evidence), call.request_id, evidence)


def _webhook_id(delivery: Delivery) -> str | None:
    return delivery.header("X-Request-ID")


def _webhook_body(seen: Seen) -> Finding:
    listener = seen.listener
    if listener is None:
        return Finding("webhook_body", None, evidence="no --webhook-url: webhooks not observed")
    ours = [d for d in listener.deliveries if listener.marker.encode() in d.raw]
    if not ours:
        return Finding("webhook_body", None, evidence="no webhook of this run arrived")
    d = ours[0]
    body = d.body
    if not isinstance(body, dict):
        return Finding(
            "webhook_body",
            _unknown("a body that is not a JSON object"),
            _webhook_id(d),
            "not a JSON object",
        )
    keys = ", ".join(sorted(body))[:120]
    evidence = f"{d.action or 'webhook'}: top-level keys {keys}"
    data = body.get("data")
    if isinstance(data, dict) and isinstance(data.get("order"), dict) and "code" in body:
        return Finding("webhook_body", "envelope", _webhook_id(d), evidence)
    if "reference_number" in body or "number" in body:
        return Finding("webhook_body", "order", _webhook_id(d), evidence)
    if isinstance(body.get("order"), dict) and set(body) == {"order"}:
        return Finding("webhook_body", "wrapped", _webhook_id(d), evidence)
    return Finding("webhook_body", _unknown(evidence), _webhook_id(d), evidence)


def _webhook_resign(seen: Seen) -> Finding:
    listener = seen.listener
    if listener is None:
        return Finding("webhook_resign", None, evidence="no --webhook-url: webhooks not observed")
    first, retry = listener.refused, listener.retry
    if first is None:
        return Finding("webhook_resign", None, evidence="no webhook of this run arrived")
    if retry is None:
        return Finding(
            "webhook_resign", None, _webhook_id(first), "answered 503, but no retry came in time"
        )
    (c1, n1, s1), (c2, n2, s2) = first.signed_as(), retry.signed_as()
    t1 = c1.split("/")[1] if c1 and c1.count("/") == 2 else "?"
    t2 = c2.split("/")[1] if c2 and c2.count("/") == 2 else "?"
    evidence = (
        f"first attempt answered 503; retry after {retry.at - first.at:.1f} s: Credential time "
        f"{t1} -> {t2}, Nonce {'same' if n1 == n2 else 'new'}, Signature "
        f"{'same' if s1 == s2 else 'new'}"
    )
    if s1 is None or s2 is None:
        return Finding("webhook_resign", _unknown(evidence), _webhook_id(retry), evidence)
    value = "original" if (c1, n1, s1) == (c2, n2, s2) else "fresh"
    return Finding("webhook_resign", value, _webhook_id(retry), evidence)


#: One rule per reading of the registry (a test checks none is missing).
RULES: Final[dict[str, Callable[[Seen], Finding]]] = {
    "webhook_body": _webhook_body,
    "webhook_resign": _webhook_resign,
    "errors": _errors,
    "amounts": _amounts,
    "refunds": _refunds,
    "declines": _declines,
    "charges": _charges,
    "duplicate_refund": _duplicate_refund,
    "voids": _voids,
}


def infer(flow: Flow, listener: Listener | None) -> dict[str, Finding]:
    """A :class:`Finding` for every reading of the registry, in its order."""
    seen = Seen(flow.calls, flow.facts, listener)
    findings: dict[str, Finding] = {}
    for name, reading in READINGS.items():
        rule = RULES.get(name)
        if rule is None:
            findings[name] = Finding(name, None, evidence="this version has no rule for it")
            continue
        finding = rule(seen)
        if finding.value is not None and not finding.value.startswith(UNKNOWN):
            reading.value(finding.value)  # a rule can only name a value the registry has
        findings[name] = finding
    return findings
