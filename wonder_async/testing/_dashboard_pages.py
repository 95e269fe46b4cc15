"""The dashboard's pages: customers, one customer, orders, webhooks, faults and requests.

Each page renders the emulator's state as the body of :func:`~._dashboard_html.page`; the
forms on it post to the actions of :class:`~._dashboard.Dashboard`, with its CSRF token.
Here: the customer and order pages (with their token, order and transaction tables) and
:class:`DashboardPages`, which the dashboard serves; the webhook, fault and request pages are
in :mod:`._dashboard_traffic`, the forms' base (:class:`~._dashboard_html.PageBase`) in
:mod:`._dashboard_html`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from aiohttp import web

from .._models import mask_card_number
from ._dashboard_html import LIST_LIMIT, PREFIX, SECURITY_HEADERS, badge, esc, table
from ._dashboard_traffic import TrafficPages

__all__ = ["DashboardPages"]

_ORDER_COLUMNS: Final = (
    "Number", "Reference", "Customer", "Amount", "Paid", "State / payment", "Callback", "Action"
)  # fmt: skip
#: Orders the payment link (``Emulator.pay_order``) still pays.
_PAYABLE: Final = frozenset({"unpaid", "partial_paid"})


def _here(request: web.Request) -> str:
    """This page's path and query, without the notice of the last action."""
    query = {k: v for k, v in request.query.items() if k != "done"}
    return str(request.rel_url.with_query(query))


def _money(value: object) -> str:
    """An amount of the API's view (a number or a string, per the ``amounts`` reading) as
    ``21.50``; anything else escaped as it is."""
    try:
        return f"{Decimal(str(value)):.2f}"
    except ArithmeticError:  # decimal.InvalidOperation
        return esc(value)


class DashboardPages(TrafficPages):
    """The pages of one :class:`Emulator`'s dashboard; each method renders one page's body.

    The customer and order pages are here; the webhook, fault and request pages come from
    :class:`~._dashboard_traffic.TrafficPages`, the emulator and the CSRF token from
    :class:`~._dashboard_html.PageBase`.
    """

    def _customer_link(self, customer: Mapping[str, Any]) -> str:
        uuid = str(customer.get("uuid", ""))
        return (
            f'<a href="{PREFIX}/customers/{esc(uuid)}">{esc(customer.get("reference_number"))}</a>'
        )

    async def home(self, request: web.Request) -> str:
        state = self.emu.state
        wanted = request.query.get("ref", "").strip()
        customers = list(reversed(state.customers.values()))  # newest first
        if wanted:
            exact = state.by_ref.get(wanted)
            needle = wanted.lower()
            customers = [
                c for c in customers if needle in str(c.get("reference_number", "")).lower()
            ]
            customers.sort(key=lambda c: c.get("uuid") != exact)  # an exact match on top
        orders_of: dict[str, int] = {}
        for order in state.orders.values():
            owner = order.get("customer_uuid")
            if owner:
                orders_of[owner] = orders_of.get(owner, 0) + 1
        rows = []
        for c in customers[:LIST_LIMIT]:
            tokens = [state.tokens[t] for t in state.customer_tokens.get(c["uuid"], ())]
            pending = sum(t.get("state") == "pending" for t in tokens)
            rows.append(
                f'<tr><th scope="row">{self._customer_link(c)}</th><td>{esc(c.get("name"))}</td>'
                f"<td>{esc(c.get('email'))}</td><td>{esc(c.get('company_name'))}</td>"
                f'<td class="num">{len(tokens)}'
                f"{f' ({pending} pending)' if pending else ''}</td>"
                f'<td class="num">{orders_of.get(c["uuid"], 0)}</td></tr>'
            )
        shown = f"{min(len(customers), LIST_LIMIT)} of {len(customers)}"
        pending = [t for t in reversed(state.tokens.values()) if t.get("state") == "pending"]
        waiting = f"{min(len(pending), LIST_LIMIT)} of {len(pending)}"
        caption = f"Customers matching “{wanted}” ({shown})" if wanted else f"Customers ({shown})"
        empty = f"No customer's reference contains “{wanted}”." if wanted else "No customers yet."
        search = (
            f'<form class="row" method="get" action="/" role="search">'
            f'<label for="ref">Reference number<input type="search" id="ref" name="ref" '
            f'value="{esc(wanted)}"></label><button type="submit">Search</button></form>'
        )
        reset = self._form(
            f"{PREFIX}/reset",
            "Reset all state",
            css="danger",
            label="(customers, tokens, orders, webhook log, faults, counters)",
        )
        return (
            f"<h1>Customers</h1>{search}"
            + table(
                caption,
                ("Reference", "Name", "Email", "Company", "Tokens", "Orders"),
                rows,
                empty,
                numeric=("Tokens", "Orders"),
            )
            + "<h2>Pending 3-D Secure challenges</h2>"
            + self._token_table(
                pending[:LIST_LIMIT],
                _here(request),
                caption=f"Tokens waiting for the cardholder, newest first ({waiting})",
                with_owner=True,
                empty="No challenge is waiting.",
            )
            + f"<h2>Reset</h2><p>{reset}</p>"
        )

    def _token_table(
        self,
        tokens: list[dict[str, Any]],
        here: str,
        *,
        caption: str,
        with_owner: bool = False,
        quiet: bool = False,
        empty: str = "No payment tokens.",
    ) -> str:
        state = self.emu.state
        rows = []
        for t in tokens:
            card = t.get("credit_card") or {}
            # Stored masked already; masking again is idempotent and keeps any slip off the page.
            number = mask_card_number(str(card.get("number") or ""))
            owner = ""
            if with_owner:
                customer = state.customers.get(str(t.get("customer_uuid")))
                owner = f"<td>{self._customer_link(customer) if customer else '—'}</td>"
            owner_record = state.customers.get(str(t.get("customer_uuid"))) or {}
            default = owner_record.get("default_payment_token") == t.get("token")
            error = (
                f' <span class="muted">{esc(t.get("error_code"))}: {esc(t.get("error_msg"))}</span>'
                if t.get("error_code")
                else ""
            )
            rows.append(
                f'<tr><th scope="row"><code>{esc(t.get("token"))}</code></th>{owner}'
                f"<td><code>{esc(number)}</code> {esc(card.get('brand'))}</td>"
                f"<td>{esc(card.get('holder_name'))}</td>"
                f"<td>{esc(card.get('exp_month'))}/{esc(card.get('exp_year'))}</td>"
                f"<td>{badge(t.get('state'))}{error}</td><td>{'yes' if default else ''}</td>"
                f"<td>{self._challenge_buttons(t, number, here)}</td></tr>"
            )
        headers = ["Token", *(["Customer"] if with_owner else []), "Card", "Holder"]
        headers += ["Expiry", "State", "Default", "3-D Secure"]
        return table(caption, headers, rows, empty, quiet=quiet)

    def _challenge_buttons(self, token: Mapping[str, Any], masked: str, here: str) -> str:
        if token.get("state") != "pending" or not token.get("verify_uuid"):
            return ""
        action = f"{PREFIX}/challenges/{token['verify_uuid']}"
        label = f"the challenge of card {masked}"
        approve = {"result": "success", "next": here}
        decline = {"result": "failed", "next": here}
        return self._form(action, "Approve", fields=approve, label=label) + self._form(
            action, "Decline", fields=decline, label=label, css="danger"
        )

    def _order_table(
        self, orders: list[dict[str, Any]], here: str, *, caption: str, quiet: bool = False
    ) -> str:
        state = self.emu.state
        rows = []
        for stored in orders:
            o = self.emu._order_view(stored)  # with its totals, as the API shows it
            number = str(o.get("number"))
            customer = state.customers.get(str(o.get("customer_uuid")))
            pay = (
                self._form(
                    f"{PREFIX}/orders/{number}/pay",
                    "Pay",
                    fields={"next": here},
                    label=f"order {number}",
                )
                if o.get("correspondence_state") in _PAYABLE and o.get("state") != "voided"
                else ""
            )
            refunded = ""
            refunds = [
                abs(Decimal(str(t.get("amount"))))
                for t in o.get("transactions") or ()
                if t.get("type") == "Refund" and t.get("success")
            ]
            if refunds:
                refunded = f"<br>refunded {sum(refunds, Decimal(0)):.2f}"
            rows.append(
                f'<tr><th scope="row"><code>{esc(number)}</code></th>'
                f"<td>{esc(o.get('reference_number'))}</td>"
                f"<td>{self._customer_link(customer) if customer else '—'}</td>"
                f'<td class="num">{_money(o.get("initial_total"))} {esc(o.get("currency"))}</td>'
                f'<td class="num">{_money(o.get("paid_total"))}'
                f"{refunded}</td>"
                f"<td>{badge(o.get('state'))} / {badge(o.get('correspondence_state'))}</td>"
                f"<td>{esc(o.get('callback_url'))}</td><td>{pay}</td></tr>"
                + self._transactions_row(o)
            )
        return table(
            caption,
            _ORDER_COLUMNS,
            rows,
            "No orders.",
            quiet=quiet,
            numeric=("Amount", "Paid"),
        )

    @staticmethod
    def _transactions_row(order: Mapping[str, Any]) -> str:
        """A row under an order with its transactions (charges, pre-auths, refunds), if any."""
        transactions = [t for t in order.get("transactions") or () if isinstance(t, Mapping)]
        if not transactions:
            return ""
        rows = []
        for t in transactions:
            data = t.get("payment_data") or {}
            card = ""
            if data.get("last_4_digits"):
                # First six and last four only, as the gateway reports them.
                card = (
                    f"{esc(data.get('first_6_digits'))}…{esc(data.get('last_4_digits'))} "
                    f"{esc(data.get('credit_card_type'))}"
                )
            if t.get("voided_at"):
                result = badge("voided")
            elif t.get("void_is_pending"):
                result = badge("void_pending")
            elif t.get("is_pending"):
                result = badge("pending")
            elif t.get("success", True):
                result = badge("success")
            else:
                result = badge("failed") + (
                    f' <span class="muted">{esc(data.get("resp_code"))}: '
                    f"{esc(data.get('resp_msg'))}</span>"
                )
            rows.append(
                f'<tr><th scope="row">{esc(t.get("type"))}</th>'
                f'<td class="num">{_money(t.get("amount"))} {esc(t.get("currency"))}</td>'
                f"<td>{result}</td><td>{card}</td><td>{esc(t.get('created_at'))}</td>"
                f"<td><code>{esc(t.get('uuid'))}</code></td></tr>"
            )
        inner = table(
            f"Transactions of order {order.get('number')}",
            ("Type", "Amount", "Result", "Card", "Created", "UUID"),
            rows,
            "",
            numeric=("Amount",),
        )
        return f'<tr class="sub"><td></td><td colspan="7">{inner}</td></tr>'

    async def customer(self, request: web.Request) -> str:
        state = self.emu.state
        customer = state.customers.get(request.match_info["uuid"])
        if customer is None:
            raise web.HTTPNotFound(text="No such customer.", headers=SECURITY_HEADERS)
        fields = (
            ("Reference number", customer.get("reference_number")),
            ("UUID", customer.get("uuid")),
            ("Name", customer.get("name")),
            ("Email", customer.get("email")),
            ("Phone", f"{customer.get('dial_code') or ''} {customer.get('phone') or ''}".strip()),
            ("Company", customer.get("company_name")),
            ("Default payment method", customer.get("default_payment_method")),
            ("Default payment token", customer.get("default_payment_token")),
        )
        facts = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in fields)
        tokens = [state.tokens[t] for t in state.customer_tokens.get(customer["uuid"], ())]
        orders = [o for o in state.orders.values() if o.get("customer_uuid") == customer["uuid"]]
        return (
            f"<h1>Customer {esc(customer.get('reference_number'))}</h1><dl>{facts}</dl>"
            "<h2>Payment tokens</h2>"
            + self._token_table(tokens, _here(request), caption="Payment tokens", quiet=True)
            + "<h2>Orders</h2>"
            + self._order_table(orders, _here(request), caption="Orders", quiet=True)
        )

    async def orders(self, request: web.Request) -> str:
        orders = list(reversed(self.emu.state.orders.values()))
        return "<h1>Orders</h1>" + self._order_table(
            orders[:LIST_LIMIT],
            _here(request),
            caption=f"Orders, newest first ({min(len(orders), LIST_LIMIT)} of {len(orders)})",
        )
