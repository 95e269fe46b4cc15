"""``wonder.payments``: charge a saved payment token, exactly once.

Every charge carries a ``payment.uuid``: the caller's ``payment_uuid=``, or one generated once
per call. The pipeline retries a charge after failures that may have reached the gateway, but
before it sends again it looks the charge up: Query order, and a transaction on it whose
``uuid`` is that ``payment.uuid``; if there is one, it is returned instead. A caller-given
``payment_uuid`` is also looked up before the first attempt, so a worker that crashed and runs
again with the same id never charges twice. See docs/guides/payments.md for the readings of
the API this relies on.

Here: the ``Payments`` resource, its request builder (``_PaymentsRequests``) and the bulk
helpers; what a charge's answer means (paid, pending, declined) and the look-up by
``payment.uuid`` live in :mod:`~wonder_async.resources._charges`, re-exported below.
"""

from __future__ import annotations

import inspect
import time
import uuid as uuidlib
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import attrs

from .._bulk import ChargeResult, bulk_map, charge_uuid
from .._errors import BadRequestError, ValidationError, WonderError
from .._models import CONSUME_MODES, MAX_TOKEN_LENGTH, Payment, check_enum, check_text
from .._request import Request
from .._wire import Paths
from ._base import AsyncResource
from ._billing_run import LOOKED_UP, PRECHECK_BATCH, UNCHECKED, Charges, RunLedger, prechecked
from ._charges import _charge_recovery, _has_transaction, _readable_charge
from ._charges import declined_from as declined_from
from ._charges import payment_from as payment_from
from ._order_fields import amount_text, order_fields, order_key
from ._recovery import RECOVERED
from .orders import _OrdersRequests

__all__ = ["Payments"]

_ENTRY_TYPE: Final = "mit"  # merchant-initiated: the cardholder is not present


def charge_arguments(row: Mapping[str, Any]) -> dict[str, Any]:
    """A bulk charge row as keyword arguments of ``create`` or ``create_with_order``, with its
    ``payment_uuid`` filled in (the row's own, else :func:`charge_uuid`). Empty values are
    dropped, as a CSV file leaves them.

    :raises ValidationError: naming an unknown column, or the first field that breaks a rule.
    """
    fields = {k: v for k, v in row.items() if v is not None and v != ""}
    with_order = "currency" in fields or "customer_uuid" in fields
    method = Payments.create_with_order if with_order else Payments.create
    allowed = [p for p in inspect.signature(method).parameters if p != "self"]
    unknown = [k for k in fields if k not in allowed]
    if unknown:
        raise ValidationError(
            unknown[0],
            "unknown",
            f"is not a field of a charge{' with a new order' if with_order else ''}",
        )
    if "payment_uuid" not in fields:
        if "token" not in fields:
            raise ValidationError("payment.payment_token.token", "required", "is required")
        amount = amount_text("payment.payment_token.amount", fields.get("amount"), required=True)
        if with_order or "reference_number" in fields:
            key = fields.get("reference_number")
            check_text("order.reference_number", key, required=True, max_length=255)
        else:
            key = "#" + str(order_key(fields.get("number"), None)["number"])
        fields["payment_uuid"] = charge_uuid(str(key), str(amount), str(fields["token"]))
    return fields


def _check_payment_uuid(payment_uuid: str | None) -> str:
    if payment_uuid is None:
        return str(uuidlib.uuid4())
    check_text("payment.uuid", payment_uuid, required=True, max_length=MAX_TOKEN_LENGTH)
    if payment_uuid != payment_uuid.strip() or not payment_uuid.isprintable():
        raise ValidationError("payment.uuid", "format", "must be printable, without spaces")
    return payment_uuid


async def _charge_row(
    payments: Payments, kwargs: dict[str, Any], chosen: str, checked: Any
) -> Payment:
    """Charge one bulk row, given what its batch look-up found (see :func:`prechecked`)."""
    if checked is not UNCHECKED:
        if checked is not None and _has_transaction(chosen)(checked):
            # Charged by an earlier run: the batch look-up found it.
            return payment_from({**checked, RECOVERED: True}, chosen)
        # The batch look-up has just shown no such charge: no look-up of its own before the
        # first attempt (after a failure the usual look-up still runs). Task-local.
        LOOKED_UP.set(True)
    if "currency" in kwargs or "customer_uuid" in kwargs:
        return await payments.create_with_order(**kwargs)
    return await payments.create(**kwargs)


class _PaymentsRequests:
    """Request builders shared by the async and blocking resources."""

    __slots__ = ()

    @staticmethod
    def _charge_request(
        target: dict[str, Any],
        key: dict[str, str],
        token: str,
        amount: str | Decimal,
        consume_mode: str,
        payment_uuid: str | None,
        operation: str = "payments.create",
    ) -> tuple[Request, str]:
        check_text("payment.payment_token.token", token, required=True, max_length=255)
        check_enum("payment.payment_token.consume_mode", consume_mode, CONSUME_MODES)
        value = amount_text("payment.payment_token.amount", amount, required=True)
        if value is not None and Decimal(value) <= 0:
            raise ValidationError("payment.payment_token.amount", "positive", "must be above 0")
        chosen = _check_payment_uuid(payment_uuid)
        body = {
            **target,
            "payment": {
                "uuid": chosen,
                "payment_token": {
                    "amount": value,
                    "token": token,
                    "consume_mode": consume_mode,
                    "entry_type": _ENTRY_TYPE,
                },
            },
        }
        request = Request.json(
            "POST",
            Paths.OPEN_PAYMENTS,
            body,
            idempotent=False,
            operation=operation,
            recover=_charge_recovery(chosen, key),
            recover_first=payment_uuid is not None and not LOOKED_UP.get(),
            expect=_readable_charge,
        )
        return request, chosen


class Payments(_PaymentsRequests, AsyncResource):
    """Charges of saved payment tokens (merchant-initiated), each made at most once."""

    __slots__ = ()

    async def create(
        self,
        *,
        token: str,
        amount: str | Decimal,
        reference_number: str | None = None,
        number: str | None = None,
        consume_mode: str = "sales",
        payment_uuid: str | None = None,
    ) -> Payment:
        """Charge a saved ``token`` for an order created before, at most once.

        Name the order by your ``reference_number`` or Wonder's ``number``. Failures that may
        have reached the gateway are retried, but only after looking the charge up by its
        ``payment_uuid``: if it went through, that transaction is returned
        (``payment.recovered``) instead of charging again.

        :param token: the customer's payment token (``PaymentToken.token``), bound and usable.
        :param amount: the amount as ``str`` or ``Decimal`` (never ``float``), e.g. ``"21.00"``.
        :param reference_number: your own id of the order to pay (give this or ``number``).
        :param number: Wonder's number of the order to pay.
        :param consume_mode: ``"sales"`` (charge) or ``"pre_authorize"`` (hold the amount).
        :param payment_uuid: your own id for this charge (at most 64 characters), e.g. derived
            from your invoice id: a second call with the same id, even from another process
            after a crash, returns the first charge instead of making another. It is looked
            up before sending. Default: a new UUID4, fixed for this call's retries.
        :returns: the :class:`Payment` with its ``transaction`` and ``order``; its ``status`` is
            ``"succeeded"``, or ``"pending"`` when the gateway has not settled the charge yet
            (neither paid nor declined: :meth:`wait` for it, never charge it again).
        :raises ValidationError: before sending, naming the field that breaks a rule.
        :raises CardDeclinedError: the issuer or gateway declined the charge for good
            (``success`` false, ``is_pending`` false); ``code`` and message are Wonder's
            reason (``payment_data.resp_code`` / ``resp_msg``). Never retried.
        :raises NotFoundError: there is no such order.
        :raises OutcomeUnknownError: the charge failed ambiguously and could not be looked up;
            calling again with the same ``payment_uuid`` is safe.
        """
        key = order_key(number, reference_number)
        request, chosen = self._charge_request(
            dict(key), key, token, amount, consume_mode, payment_uuid
        )
        try:
            data = await self._client._execute(request)
        except BadRequestError as exc:
            raise declined_from(exc, chosen) from None
        return payment_from(data, chosen)

    async def create_with_order(
        self,
        *,
        reference_number: str,
        token: str,
        amount: str | Decimal,
        currency: str,
        customer_uuid: str | None = None,
        consume_mode: str = "sales",
        payment_uuid: str | None = None,
        tips: str | Decimal | None = None,
        note: str | None = None,
        due_date: str | None = None,
        callback_url: str | None = None,
        redirect_url: str | None = None,
        line_items: Sequence[dict[str, Any]] | None = None,
    ) -> Payment:
        """Create an order for ``amount`` and charge a saved ``token`` for it, in one call.

        Wonder's "Direct Payment". Exactly-once rules as for :meth:`create`; the look-up also
        finds the order by ``reference_number``.

        :param reference_number: your unique reference of the new order.
        :param token: the customer's payment token (``PaymentToken.token``), bound and usable.
        :param amount: the order's ``charge_fee`` and the amount charged.
        :param currency: ISO 4217 code, e.g. ``HKD``.
        :param customer_uuid: the customer who owns the token.
        :param consume_mode: ``"sales"`` (charge) or ``"pre_authorize"`` (hold the amount).
        :param payment_uuid: your own id for this charge, as for :meth:`create`.
        :param tips: a tip on top of ``amount``, as ``str`` or ``Decimal``.
        :param note: a note on the order (at most 254 characters).
        :param due_date: when the order is due, as the gateway's date string.
        :param callback_url: where Wonder sends this order's webhooks.
        :param redirect_url: where the payment page sends the customer afterwards.
        :param line_items: the order's line items, as the gateway's dicts.
        :returns: the :class:`Payment` with its ``transaction`` and the new ``order``; its
            ``status`` is ``"succeeded"`` or ``"pending"``, as for :meth:`create`.
        :raises ValidationError: before sending, naming the field that breaks a rule.
        :raises CardDeclinedError: the issuer or gateway declined the charge for good, as for
            :meth:`create` (never retried).
        :raises OutcomeUnknownError: as for :meth:`create`.
        """
        target = order_fields(
            reference_number,
            amount,
            currency,
            customer_uuid,
            {
                "tips": tips,
                "note": note,
                "due_date": due_date,
                "callback_url": callback_url,
                "redirect_url": redirect_url,
                "line_items": list(line_items) if line_items is not None else None,
            },
        )
        request, chosen = self._charge_request(
            target,
            {"reference_number": reference_number},
            token,
            amount,
            consume_mode,
            payment_uuid,
            operation="payments.create_with_order",
        )
        try:
            data = await self._client._execute(request)
        except BadRequestError as exc:
            raise declined_from(exc, chosen) from None
        return payment_from(data, chosen)

    async def wait(
        self, payment: Payment, *, timeout: float = 60.0, interval: float = 1.0
    ) -> Payment:
        """Wait for a pending charge to settle: poll its order (Query order) every
        ``interval`` seconds, for at most ``timeout`` seconds.

        A pending charge (``payment.status == "pending"``: ``success`` false while
        ``is_pending`` is true or absent) is neither paid nor declined yet. Never charge it
        again: wait here, or look it up later (``orders.get(transaction_uuid=payment_uuid)``,
        or this method again). A payment that is not pending is returned at once.

        :param payment: the :class:`Payment` that :meth:`create` or :meth:`create_with_order`
            returned (or one from a billing run).
        :param timeout: seconds to wait in all.
        :param interval: seconds between look-ups.
        :returns: the payment once it settled (``status`` ``succeeded``), or, when ``timeout``
            passed first, the latest look-up, still ``pending``: check ``payment.status``.
        :raises CardDeclinedError: the charge settled as declined.
        :raises ValidationError: for a negative ``timeout`` or an ``interval`` not above 0.
        """
        if timeout < 0:
            raise ValidationError("timeout", "range", "must not be negative")
        if interval <= 0:
            raise ValidationError("interval", "range", "must be above 0")
        order = payment.order
        request = (
            _OrdersRequests._get_request(order.number, None)
            if order.number
            else _OrdersRequests._get_request(None, order.reference_number)
            if order.reference_number
            else _OrdersRequests._get_request(None, None, payment.payment_uuid)
        )
        deadline = time.monotonic() + timeout
        current = payment
        while current.pending:
            if time.monotonic() + interval > deadline:
                return current
            await self._client._sleep(interval)
            data = await self._client._execute(request)
            found = payment_from(data, payment.payment_uuid)
            current = attrs.evolve(found, recovered=payment.recovered)
        return current

    async def create_many(
        self, charges: Charges, *, concurrency: int = 16
    ) -> AsyncIterator[ChargeResult]:
        """Charge many saved tokens, at most ``concurrency`` at a time, each at most once.

        ``charges`` is any iterable (with ``wonder_async`` also any async iterable) of mappings,
        read lazily. A row with ``currency`` or ``customer_uuid`` is a
        :meth:`create_with_order` (its keys are that method's arguments); any other row is a
        :meth:`create` of an existing order. Values may be strings, as read from a CSV file.

        A row without ``payment_uuid`` gets :func:`~wonder_async.charge_uuid` of its order
        reference, amount and token, so running the same rows again -- after a crash, on
        another machine -- finds the earlier charges instead of charging twice. Give each row
        its own ``payment_uuid`` if two rows may share order, amount and token.

        Results come in completion order (``result.index`` is the row's position); a bad,
        declined or failed row is a result with ``error`` set and the others go on.

        :param charges: mappings of :meth:`create` or :meth:`create_with_order` arguments.
        :param concurrency: most charges in flight at once (1-1024).
        :returns: an iterator of one :class:`ChargeResult` per row.
        :raises ValidationError: when ``concurrency`` is out of range.
        """

        client = self._client

        async def one(index: int, item: tuple[Mapping[str, Any], Any]) -> ChargeResult:
            row, checked = item
            ref = row.get("reference_number")
            chosen: str | None = None
            try:
                kwargs = charge_arguments(row)
                chosen = kwargs["payment_uuid"]
                held = ledger.begin(chosen)
                if held is not None:
                    # The same charge again in this run: after the other row, look up alone.
                    await held.wait()
                    checked = UNCHECKED
                try:
                    payment = await _charge_row(self, kwargs, chosen, checked)
                finally:
                    if held is None:
                        ledger.end(chosen)
            except WonderError as exc:
                return ChargeResult(index, ref, chosen, error=exc)
            return ChargeResult(index, ref, chosen, payment=payment)

        ledger = RunLedger()
        rows = prechecked(client, charges, min(PRECHECK_BATCH, concurrency * 4), ledger)
        async for result in bulk_map(rows, one, concurrency=concurrency):
            yield result
