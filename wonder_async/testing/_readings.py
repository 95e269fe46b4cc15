"""The emulator's readings: every place where the real gateway's behaviour is unknown, as a
named switch with its values, its default and the evidence for each value.

Handlers ask one :class:`Readings` object (``emu.readings``) instead of growing branches of
their own; ``wonder emulator --reading NAME=VALUE`` (repeatable), ``--readings FILE.json`` and
``Emulator(readings={"NAME": "VALUE"})`` choose values, ``--list-readings`` prints this
registry. The defaults are the most likely reading of the evidence; ``docs/decisions.md``
explains each choice. ``wonder conformance`` writes a file :meth:`Readings.load` reads, so
the emulator can answer like the gateway a merchant's sandbox showed.

Evidence names Wonder's own shipped code (``PHP`` = ``wonderpayment/payment-sdk-php``,
``WOO`` = ``wonderpayment/plugin-woo-commerce``, ``OC`` = ``wonderpayment/plugin-opencart``,
``iOS`` = ``wonder-sources/WonderPayment-iOS``) or the published docs (``DOC``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

__all__ = ["FILE_FORMAT", "READINGS", "Reading", "Readings", "Value", "variants"]

#: The ``format`` key of a readings file (``wonder conformance`` writes it, the emulator loads it).
FILE_FORMAT: Final = "wonder-readings/1"


@attrs.frozen
class Value:
    """One plausible answer to a reading's question."""

    name: str
    meaning: str
    evidence: str


@attrs.frozen
class Reading:
    """A question about the real gateway, its plausible answers and the one we assume."""

    name: str
    question: str
    values: tuple[Value, ...]
    default: str
    #: What in the SDK depends on the answer (the tests run those guarantees under each value).
    bears_on: str

    def value(self, name: str) -> Value:
        """The value called ``name``; :class:`ValueError` naming the choices otherwise."""
        for value in self.values:
            if value.name == name:
                return value
        choices = ", ".join(v.name for v in self.values)
        raise ValueError(f"reading {self.name}: unknown value {name!r} (choose from {choices})")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.values)


def _reading(name: str, question: str, default: str, bears_on: str, *values: Value) -> Reading:
    reading = Reading(name, question, values, default, bears_on)
    reading.value(default)  # a typo in the registry fails at import
    return reading


READINGS: Final[Mapping[str, Reading]] = {
    r.name: r
    for r in (
        _reading(
            "webhook_body",
            "What is the body of a webhook POST?",
            "envelope",
            "webhook parsing (WebhookVerifier, the recipes) and handlers in other languages",
            Value(
                "envelope",
                'the Query-order envelope {"code":200,"message":"success","data":{"order":…}}',
                "WOO handle_webhook reads data.order when present (class-wonder-payments-"
                "gateway.php:1009-1013); the same presenter as Query order",
            ),
            Value(
                "order",
                "the order object at the JSON root",
                "WOO handle_webhook falls back to the root and reads reference_number from it "
                "(class-wonder-payments-gateway.php:1009-1019)",
            ),
            Value(
                "wrapped",
                '{"order": …} (what this emulator sent before 0.2.0)',
                "none in Wonder's code; kept so clients written against older emulators can be "
                "checked",
            ),
        ),
        _reading(
            "webhook_resign",
            "Is a webhook retry signed again, or resent with its first Credential and Signature?",
            "fresh",
            "webhook freshness (WebhookVerifier max_age) and the status a stale webhook gets",
            Value(
                "fresh",
                "every attempt is signed again with the current time",
                "unknown; DOC: 15 retries within 24 hours",
            ),
            Value(
                "original",
                "retries resend the first attempt's headers, so their Credential time ages",
                "unknown; WOO checks no time at all (class-wonder-payments-gateway.php:948-1003)",
            ),
        ),
        _reading(
            "errors",
            "How does the gateway answer a refused request (bad field, unknown order)?",
            "envelope",
            "error mapping, and every exactly-once look-up that must tell 'not there' apart",
            Value(
                "envelope",
                "HTTP 200 with a non-200 code, an error_code and the text in message",
                "PHP throws on HTTP >= 400 (PaymentSDK.php:301-303) yet WOO and OC branch on "
                "code/error_code/message of the answer (gateway.php:840-851, OC catalog "
                "controller:839-858); WOO matched code 100701 (commit aa1eb78)",
            ),
            Value(
                "http",
                "a 4xx status (400, 404) with the envelope",
                "DOC: 400 invalid parameters; what this emulator did before 0.2.0",
            ),
        ),
        _reading(
            "amounts",
            "What JSON type are amounts in answers and webhooks?",
            "number",
            "every amount the SDK reads (orders, transactions, refunds, webhooks)",
            Value(
                "number",
                "JSON numbers (21.5)",
                "iOS decodes initial_total, subtotal and amount as Double (Order.swift:33-35, "
                "Transaction.swift:32); DOC schema: amount (number)",
            ),
            Value(
                "string",
                'two-place strings ("21.50")',
                "DOC: paid_total (string); WOO floatval() takes either",
            ),
        ),
        _reading(
            "refunds",
            "How does a refund transaction show on the order?",
            "linked",
            "refund results and the refund recovery after an ambiguous failure",
            Value(
                "linked",
                "type Refund, positive amount, original_transaction_uuid naming the sale",
                "DOC OpenTransactionPresenter: original_transaction_uuid (a refund points at "
                "its sale)",
            ),
            Value(
                "negative_unlinked",
                "type Refund, negative amount, no original_transaction_uuid",
                "WOO always takes abs(amount) of type === 'Refund' and never reads "
                "original_transaction_uuid (gateway.php:1117-1118, :1479-1481)",
            ),
        ),
        _reading(
            "declines",
            "How does a declined charge come back?",
            "success_false",
            "CardDeclinedError and the billing run's declined rows",
            Value(
                "success_false",
                "HTTP 200, code 200, the transaction success:false, is_pending:false, reason "
                "in payment_data.resp_code / resp_msg",
                "iOS PaymentService.swift:249-256, DefaultPaymentDelegate.swift:32-41",
            ),
            Value(
                "http",
                "a refusal (see errors) whose data.order holds the failed transaction",
                "none in Wonder's code; what this emulator did before 0.2.0",
            ),
        ),
        _reading(
            "charges",
            "Does a charge of a saved token settle in the answer, or later?",
            "immediate",
            "payments.create / create_with_order outcomes, wait_settled, billing runs",
            Value(
                "immediate",
                "the answer holds the final transaction (is_pending false)",
                "DOC: open_payments 'directly make a transaction without any UI'",
            ),
            Value(
                "pending",
                "the answer holds success:false, is_pending:true; Query order shows the final "
                "state after pending_seconds",
                "iOS treats a missing is_pending as pending and polls orders/check every second "
                "while it is set (Transaction.swift:28, PaymentService.swift:631-657)",
            ),
        ),
        _reading(
            "duplicate_refund",
            "Is a second refund of the same amount on the same sale within five minutes taken?",
            "refuse",
            "the refund recovery (a re-sent refund after an ambiguous failure)",
            Value(
                "refuse",
                "refused with code 100701, 'not allowed within five minutes'",
                "WOO commit aa1eb78 (2026-01-14) mapped code == 100701 to that message",
            ),
            Value(
                "allow",
                "taken like any other refund",
                "none; what this emulator did before 0.2.0",
            ),
        ),
        _reading(
            "voids",
            "How does a voided transaction show on the order?",
            "marked",
            "void results and the void recovery after an ambiguous failure",
            Value(
                "marked",
                "allow_void false, voided_at set, payment_data.transaction_state 'voided'",
                "iOS lists voided_at and void_is_pending (PayResult.swift:25, :35); DOC "
                "transaction.voided webhook",
            ),
            Value(
                "pending",
                "void_is_pending true and allow_void false first; voided_at after pending_seconds",
                "iOS lists void_is_pending (PayResult.swift:25); DOC schema void_is_pending",
            ),
        ),
    )
}


def _check_name(name: str) -> Reading:
    reading = READINGS.get(name)
    if reading is None:
        raise ValueError(f"unknown reading {name!r} (known: {', '.join(READINGS)})")
    return reading


class Readings(Mapping[str, str]):
    """The emulator's chosen value of every reading (defaults for those not given).

    ``readings["charges"] == "pending"``; ``readings.is_("charges", "pending")`` checks the
    name and value exist, so a typo in a handler fails loudly instead of never matching.
    """

    __slots__ = ("_chosen",)

    def __init__(self, chosen: Mapping[str, str] | None = None) -> None:
        values = {name: r.default for name, r in READINGS.items()}
        for name, value in (chosen or {}).items():
            _check_name(name).value(value)
            values[name] = value
        self._chosen = values

    @classmethod
    def parse(cls, assignments: Iterable[str], base: Mapping[str, str] | None = None) -> Readings:
        """``["charges=pending", ...]`` (the CLI's ``--reading``) over ``base``.

        :param assignments: ``NAME=VALUE`` texts; a later one wins.
        :param base: choices they override (e.g. from a readings file).
        :returns: the readings, defaults for the rest.
        :raises ValueError: naming a text without ``=``, an unknown reading or value.
        """
        chosen = dict(base or {})
        for text in assignments:
            name, sep, value = text.partition("=")
            if not sep:
                raise ValueError(f"--reading {text!r}: expected NAME=VALUE")
            chosen[name.strip()] = value.strip()
        return cls(chosen)

    @classmethod
    def load(cls, path: str | Path) -> Readings:
        """Read a readings file: ``{"format": FILE_FORMAT, "readings": {NAME: VALUE}}``.

        A value that is not a known value of its reading (``wonder conformance`` writes
        ``null`` for "not observed" and ``"unknown:…"`` for "none of the known values") keeps
        the default; unknown reading names are refused.

        :param path: the JSON file.
        :returns: the readings the file sets, defaults for the rest.
        :raises ValueError: when it is not a readings file or names an unknown reading.
        """
        doc = json.loads(Path(path).read_text())
        if not isinstance(doc, dict) or not isinstance(doc.get("readings"), dict):
            raise ValueError(f"{path}: not a readings file (no 'readings' object)")
        chosen: dict[str, str] = {}
        for name, value in doc["readings"].items():
            reading = _check_name(name)
            if isinstance(value, str) and value in reading.names:
                chosen[name] = value
        return cls(chosen)

    def is_(self, name: str, value: str) -> bool:
        """Whether reading ``name`` is set to ``value`` (both must exist).

        :param name: a reading of :data:`READINGS`.
        :param value: one of its values.
        :returns: ``True`` when that value is chosen.
        :raises ValueError: for an unknown reading or value (a typo never silently fails).
        """
        _check_name(name).value(value)
        return self._chosen[name] == value

    def non_default(self) -> dict[str, str]:
        """The readings set to something other than their default.

        :returns: ``{name: value}`` of those readings only.
        """
        return {n: v for n, v in self._chosen.items() if v != READINGS[n].default}

    def to_json(self) -> dict[str, Any]:
        """The file format :meth:`load` reads.

        :returns: ``{"format": FILE_FORMAT, "readings": {name: value}}`` for every reading.
        """
        return {"format": FILE_FORMAT, "readings": dict(self._chosen)}

    def __getitem__(self, name: str) -> str:
        return self._chosen[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._chosen)

    def __len__(self) -> int:
        return len(self._chosen)

    def __repr__(self) -> str:
        return f"Readings({self.non_default()!r})"


def variants(names: Iterable[str] | None = None) -> list[dict[str, str]]:
    """The reading sets a guarantee is tested under: each non-default value of each named
    reading alone, then every named reading's first non-default value together.

    :param names: the readings that bear on the guarantee (default: all).
    :returns: one ``{name: value}`` mapping per set, for ``Emulator(readings=...)``.
    """
    chosen = [_check_name(n) for n in (names if names is not None else READINGS)]
    alone = [{r.name: v} for r in chosen for v in r.names if v != r.default]
    together = {r.name: next(v for v in r.names if v != r.default) for r in chosen}
    return [*alone, together] if len(chosen) > 1 else alone


def describe() -> str:
    """The registry as text, for ``wonder emulator --list-readings``."""
    lines: list[str] = []
    for reading in READINGS.values():
        lines.append(f"{reading.name}: {reading.question}")
        lines.append(f"  bears on: {reading.bears_on}")
        for value in reading.values:
            mark = "*" if value.name == reading.default else " "
            lines.append(f"  {mark} {value.name}: {value.meaning}")
            lines.append(f"      evidence: {value.evidence}")
    lines.append("(* = default)")
    return "\n".join(lines)
