"""The scripted flow of ``wonder conformance``: what a merchant can do in a sandbox, once.

Every reference number carries the run id (``wcf-<run id>-...``) and every charge a fresh
``payment.uuid``, and the flow charges only orders it created itself, so a rerun never charges
an order of an earlier run. What it created is tracked and cleaned up where the API allows
(refund what is left of a sale, void a sale or an unpaid order, delete a token it bound);
what it cannot undo is listed.

Here: the settings, and :class:`Flow` with the steps (echo, customers, card binding, orders
and charges). The cleanup (:class:`~._cleanup.CleanupSteps`, which :class:`Flow` mixes in),
its :class:`~._cleanup.Cleanup` record and the readers of an order's transactions live in
:mod:`._cleanup`.
"""

from __future__ import annotations

import asyncio
import time
import uuid as uuidlib
from collections.abc import Awaitable, Callable
from typing import Any, Final

import attrs

from .._wire import Paths, path_segment
from ._calls import BudgetExhausted, Call, Caller
from ._cleanup import Cleanup, CleanupSteps, find_transaction

__all__ = ["Flow", "FlowSettings"]

#: Wonder's test cards are not published; these are the common ones (and the emulator's).
DEFAULT_CARD: Final = "4242424242424242"
DEFAULT_DECLINE_CARD: Final = "4000000000009995"

#: Amounts the flow moves (small, distinct, so each transaction is recognisable).
SALE: Final = "10.00"
PARTIAL_REFUND: Final = "3.00"
PRE_AUTH: Final = "5.00"
DIRECT: Final = "4.00"
DECLINED: Final = "2.00"


@attrs.define
class FlowSettings:
    """What the flow sends (cards, amounts' currency) and how long it waits."""

    run_id: str
    currency: str = "HKD"
    card: str = DEFAULT_CARD
    decline_card: str | None = DEFAULT_DECLINE_CARD
    #: An already bound card: skip the binding (and never delete that token).
    customer_uuid: str | None = None
    token: str | None = None
    webhook_url: str | None = None
    three_ds_wait: float = 300.0
    settle_wait: float = 30.0
    poll_interval: float = 1.0

    @property
    def marker(self) -> str:
        return f"wcf-{self.run_id}"

    def ref(self, what: str) -> str:
        return f"{self.marker}-{what}"


#: Called with a 3-D Secure ``verify_url`` the cardholder must open (the CLI prints it).
VerifyHook = Callable[[str, dict[str, Any]], Awaitable[None]]
Say = Callable[[str], None]


class Flow(CleanupSteps):
    """Runs the steps against one gateway and keeps every call by step name."""

    def __init__(
        self, caller: Caller, settings: FlowSettings, on_verify: VerifyHook, say: Say
    ) -> None:
        self.caller = caller
        self.s = settings
        self.on_verify = on_verify
        self.say = say
        self.calls: dict[str, Call] = {}
        #: Extra facts the inference reads: sale/auth uuids, settle results.
        self.facts: dict[str, Any] = {}
        self.customer_uuid: str | None = settings.customer_uuid
        self.token: str | None = settings.token
        self._bound_tokens: list[str] = []
        #: Orders this run created: reference -> the uuid of the transaction on it (or None).
        self._orders: dict[str, str | None] = {}
        self.stopped: str | None = None
        self.cleanup = Cleanup()

    async def _call(
        self,
        step: str,
        method: str,
        path: str,
        body: Any = None,
        query: tuple[tuple[str, str], ...] = (),
        **kw: Any,
    ) -> Call:
        call = await self.caller.call(step, method, path, body, query, **kw)
        self.calls[step] = call
        return call

    # --- the run --------------------------------------------------------------------------

    async def run(self) -> None:
        """All steps; a used-up budget stops the flow (cleanup still runs)."""
        try:
            await self._steps()
        except BudgetExhausted as exc:
            self.stopped = str(exc)
            self.say(f"stopped early: {exc}")
        finally:
            await self._cleanup()

    async def _steps(self) -> None:
        echo = await self._call("echo", "POST", Paths.ECHO, {"message": f"Hello,{self.s.marker}"})
        if not echo.answered or echo.status in (401, 403):
            self.stopped = f"the signature self-test (echo) failed: {echo.summary()}"
            self.say(f"{self.stopped}; check the AppID, the private key and the base URL")
            return
        await self._customers()
        if self.customer_uuid is None:
            self.say("no customer: the card, order and charge steps are skipped")
            return
        if self.token is None:
            self.token = await self._bind(self.s.card, "payment_tokens.create")
        if self.token is None:
            self.say("no bound card: the charge steps are skipped")
        else:
            await self._sale_and_refunds()
            await self._pre_authorisation()
            await self._direct_payment()
        await self._declined()
        await self._call(
            "orders.get_missing",
            "POST",
            Paths.ORDER_CHECK,
            {"order": {"reference_number": self.s.ref("missing")}},
        )
        refused = await self._call(
            "orders.create_refused",
            "POST",
            Paths.ORDERS,
            {"order": self._order_fields(self.s.ref("refused"), "not-an-amount")},
        )
        if refused.ok:  # it should not have been taken; void it in cleanup all the same
            self._orders[self.s.ref("refused")] = None
        await self._call(
            "orders.list",
            "GET",
            Paths.ORDERS_LIST,
            query=(("customer_uuid", self.customer_uuid), ("limit", "50")),
        )

    # --- customers ------------------------------------------------------------------------

    async def _customers(self) -> None:
        ref = self.s.ref("customer")
        fields = {
            "name": "Conformance Run",
            "phone": "12345678",
            "reference_number": ref,
            "email": "conformance@example.invalid",
        }
        first = await self._call("customers.upsert", "POST", Paths.CUSTOMERS, {"customer": fields})
        again = await self._call(
            "customers.upsert_again",
            "POST",
            Paths.CUSTOMERS,
            {"customer": {**fields, "name": "Conformance Run (again)"}},
        )
        customer = first.data.get("customer") or again.data.get("customer")
        uuid = customer.get("uuid") if isinstance(customer, dict) else None
        if self.customer_uuid is None and isinstance(uuid, str):
            self.customer_uuid = uuid
        if self.customer_uuid is None:
            return
        segment = path_segment(self.customer_uuid)
        await self._call("customers.get", "GET", Paths.CUSTOMER.format(uuid=segment))
        await self._call(
            "customers.get_by_reference", "GET", Paths.CUSTOMER_BY_REF.format(ref=path_segment(ref))
        )
        await self._call(
            "customers.list",
            "GET",
            Paths.CUSTOMERS,
            query=(("filter[reference_number][_eq]", ref), ("limit", "10")),
        )

    # --- card binding ---------------------------------------------------------------------

    async def _bind(self, number: str, step: str) -> str | None:
        """Bind ``number`` for the customer; the token once ``success``, else ``None``."""
        assert self.customer_uuid is not None
        path = Paths.PAYMENT_TOKENS.format(uuid=path_segment(self.customer_uuid))
        body = {
            "card": {
                "number": number,
                "exp_month": "12",
                "exp_year": str(time.gmtime().tm_year + 3),
                "cvv": "123",
                "holder_name": "CONFORMANCE RUN",
                "3ds": {
                    "success_return_url": "https://example.invalid/3ds/success",
                    "fail_return_url": "https://example.invalid/3ds/failed",
                },
                "transaction_type": "unscheduled_cof",
            }
        }
        created = await self._call(step, "POST", path, body)
        token = created.data.get("payment_token")
        if not isinstance(token, dict) or not isinstance(token.get("token"), str):
            return None
        token_id: str = token["token"]
        self._bound_tokens.append(token_id)
        state = token.get("state")
        if state == "pending":
            verify_url = token.get("verify_url")
            if isinstance(verify_url, str) and verify_url:
                await self.on_verify(verify_url, token)
            state = await self._poll_token(token_id, token.get("verify_uuid"), step)
        return token_id if state == "success" else None

    async def _poll_token(self, token: str, verify_uuid: Any, step: str) -> Any:
        assert self.customer_uuid is not None
        path = Paths.PAYMENT_TOKEN_CHECK.format(uuid=path_segment(self.customer_uuid))
        wanted: dict[str, Any] = {"token": token}
        if isinstance(verify_uuid, str):
            wanted["verify_uuid"] = verify_uuid
        deadline = time.monotonic() + self.s.three_ds_wait
        polls = 0
        state: Any = "pending"
        while state == "pending" and time.monotonic() < deadline:
            await asyncio.sleep(self._interval(polls))
            polls += 1
            check = await self._call(f"{step}.check", "POST", path, {"payment_token": wanted})
            found = check.data.get("payment_token")
            state = found.get("state") if isinstance(found, dict) else state
        return state

    def _interval(self, polls: int) -> float:
        # 1, 1, 2, 3, 5, 5, ... times the base: a long 3-D Secure wait costs few calls.
        return self.s.poll_interval * (1, 1, 2, 3)[polls] if polls < 4 else self.s.poll_interval * 5

    # --- orders and charges ---------------------------------------------------------------

    def _order_fields(self, ref: str, amount: str) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "reference_number": ref,
            "charge_fee": amount,
            "currency": self.s.currency,
            "note": f"wonder conformance run {self.s.run_id}",
        }
        if self.s.webhook_url:
            fields["callback_url"] = self.s.webhook_url
        return fields

    def _payment(self, amount: str, token: str, mode: str = "sales") -> dict[str, Any]:
        return {
            "uuid": str(uuidlib.uuid4()),
            "payment_token": {
                "amount": amount,
                "token": token,
                "consume_mode": mode,
                "entry_type": "mit",
            },
        }

    async def _create_order(self, step: str, ref: str, amount: str) -> Call:
        call = await self._call(
            step,
            "POST",
            Paths.ORDERS,
            {"customer_uuid": self.customer_uuid, "order": self._order_fields(ref, amount)},
        )
        if call.ok:
            self._orders[ref] = None
        return call

    async def _charge(
        self, step: str, body: dict[str, Any], ref: str
    ) -> tuple[Call, dict[str, Any] | None]:
        """Charge; the answer and the transaction, after it settled if it came pending."""
        uuid = body["payment"]["uuid"]
        call = await self._call(step, "POST", Paths.OPEN_PAYMENTS, body)
        txn = find_transaction(call.order, uuid)
        if call.order is not None:
            self._orders[ref] = txn.get("uuid") if txn else uuid
        if (
            txn is not None
            and txn.get("success") is not True
            and txn.get("is_pending")
            in (
                True,
                None,
            )
        ):
            settled = await self._settle(f"{step}.settle", txn.get("uuid") or uuid, "is_pending")
            self.facts[f"{step}.settled"] = settled
            if settled is not None:
                txn = settled
        return call, txn

    async def _settle(self, step: str, uuid: str, flag: str) -> dict[str, Any] | None:
        """Poll Query order by transaction until the transaction's ``flag`` is false."""
        deadline = time.monotonic() + self.s.settle_wait
        polls = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(self._interval(polls))
            polls += 1
            call = await self._call(
                step, "POST", Paths.ORDER_CHECK, {"transaction": {"uuid": uuid}}
            )
            txn = find_transaction(call.order, uuid)
            if txn is not None and txn.get(flag) is False:
                return txn
        return None

    async def _sale_and_refunds(self) -> None:
        assert self.token is not None
        ref = self.s.ref("sale")
        if not (await self._create_order("orders.create", ref, SALE)).ok:
            return
        body = {"reference_number": ref, "payment": self._payment(SALE, self.token)}
        _, txn = await self._charge("payments.charge", body, ref)
        sale = txn.get("uuid") if txn else None
        self.facts["sale_uuid"] = sale
        if not isinstance(sale, str):
            return
        await self._call(
            "orders.get_by_reference",
            "POST",
            Paths.ORDER_CHECK,
            {"order": {"reference_number": ref}},
        )
        await self._call(
            "orders.get_by_transaction", "POST", Paths.ORDER_CHECK, {"transaction": {"uuid": sale}}
        )
        if not (txn and txn.get("success") is True):
            return
        refund = {
            "order": {"reference_number": ref},
            "transaction": {"uuid": sale},
            "refund": {"amount": PARTIAL_REFUND},
        }
        first = await self._call("orders.refund", "POST", Paths.ORDER_REFUND, refund)
        if first.ok:
            await self._call("orders.refund_repeat", "POST", Paths.ORDER_REFUND, refund)
            await self._call(
                "orders.get_after_refund",
                "POST",
                Paths.ORDER_CHECK,
                {"order": {"reference_number": ref}},
            )

    async def _pre_authorisation(self) -> None:
        assert self.token is not None
        ref = self.s.ref("preauth")
        if not (await self._create_order("orders.create_preauth", ref, PRE_AUTH)).ok:
            return
        body = {
            "reference_number": ref,
            "payment": self._payment(PRE_AUTH, self.token, "pre_authorize"),
        }
        _, txn = await self._charge("payments.pre_authorize", body, ref)
        auth = txn.get("uuid") if txn else None
        if not isinstance(auth, str) or not (txn and txn.get("success") is True):
            return
        self.facts["auth_uuid"] = auth
        void = await self._call(
            "orders.void",
            "POST",
            Paths.ORDER_VOID,
            {"order": {"reference_number": ref}, "transaction": {"uuid": auth}},
        )
        if not void.ok:
            return
        self._orders[ref] = None  # released: nothing to clean up
        voided = find_transaction(void.order, auth)
        if voided is not None and voided.get("void_is_pending") is True:
            self.facts["void.settled"] = await self._settle(
                "orders.void.settle", auth, "void_is_pending"
            )
        await self._call(
            "orders.get_after_void", "POST", Paths.ORDER_CHECK, {"transaction": {"uuid": auth}}
        )

    async def _direct_payment(self) -> None:
        assert self.token is not None
        ref = self.s.ref("direct")
        body = {
            "customer_uuid": self.customer_uuid,
            "order": self._order_fields(ref, DIRECT),
            "payment": self._payment(DIRECT, self.token),
        }
        await self._charge("payments.direct", body, ref)

    async def _declined(self) -> None:
        if not self.s.decline_card or self.customer_uuid is None:
            return
        token = await self._bind(self.s.decline_card, "payment_tokens.create_declining")
        if token is None:
            self.say("the declining test card did not bind: no declined charge")
            return
        ref = self.s.ref("declined")
        body = {
            "customer_uuid": self.customer_uuid,
            "order": self._order_fields(ref, DECLINED),
            "payment": self._payment(DECLINED, token),
        }
        call, txn = await self._charge("payments.declined", body, ref)
        self.facts["declined_settled_txn"] = txn
        if call.order is not None or call.ok:
            self._orders.setdefault(ref, None)

    @property
    def created_orders(self) -> bool:
        """Whether the run created an order (only then can a webhook of it come)."""
        return bool(self._orders)
