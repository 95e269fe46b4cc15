"""The dashboard's pages: customers, one customer, orders, webhooks, faults and requests.

Each page renders the emulator's state as the body of :func:`~._dashboard_html.page`; the
forms on it post to the actions of :class:`~._dashboard.Dashboard`, with its CSRF token.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .._models import mask_card_number
from ._dashboard_html import PREFIX, SECURITY_HEADERS, badge, esc, table
from ._faults import ROUTES, FaultPlan

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = ["DashboardPages"]

_LIST_LIMIT: Final = 100
_ORDER_COLUMNS: Final = (
    "Number", "Reference", "Customer", "Amount", "Paid", "State / payment", "Callback", "Action"
)  # fmt: skip
#: Orders the payment link (``Emulator.pay_order``) still pays.
_PAYABLE: Final = frozenset({"unpaid", "partial_paid"})


def _curl(url: str, headers: Mapping[str, str], body: str) -> str:
    """A ``curl`` command that sends exactly this request again (shell-quoted)."""
    lines = [f"curl -X POST {shlex.quote(url)}"]
    lines += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items()]
    lines.append(f"--data-raw {shlex.quote(body)}")
    return " \\\n  ".join(lines)


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


class DashboardPages:
    """The pages of one :class:`Emulator`'s dashboard; each method renders one page's body.

    :param emu: the emulator whose state they show.
    :param csrf_token: the token every form carries in its hidden ``csrf`` field.
    """

    def __init__(self, emu: Emulator, csrf_token: str) -> None:
        self.emu = emu
        self.csrf_token = csrf_token

    def _form(
        self,
        action: str,
        button: str,
        *,
        fields: Mapping[str, str] | None = None,
        label: str | None = None,
        css: str | None = None,
    ) -> str:
        """A one-button POST form carrying the CSRF token.

        :param label: more button text for screen readers only (which row it acts on).
        """
        hidden = "".join(
            f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
            for k, v in {"csrf": self.csrf_token, **(fields or {})}.items()
        )
        extra = f'<span class="vh"> {esc(label)}</span>' if label else ""
        css = f' class="{esc(css)}"' if css else ""
        return (
            f'<form class="inline" method="post" action="{esc(action)}">{hidden}'
            f"<button type=submit{css}>{esc(button)}{extra}</button></form>"
        )

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
        for c in customers[:_LIST_LIMIT]:
            tokens = [state.tokens[t] for t in state.customer_tokens.get(c["uuid"], ())]
            pending = sum(t.get("state") == "pending" for t in tokens)
            rows.append(
                f'<tr><th scope="row">{self._customer_link(c)}</th><td>{esc(c.get("name"))}</td>'
                f"<td>{esc(c.get('email'))}</td><td>{esc(c.get('company_name'))}</td>"
                f'<td class="num">{len(tokens)}'
                f"{f' ({pending} pending)' if pending else ''}</td>"
                f'<td class="num">{orders_of.get(c["uuid"], 0)}</td></tr>'
            )
        shown = f"{min(len(customers), _LIST_LIMIT)} of {len(customers)}"
        pending = [t for t in reversed(state.tokens.values()) if t.get("state") == "pending"]
        waiting = f"{min(len(pending), _LIST_LIMIT)} of {len(pending)}"
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
                pending[:_LIST_LIMIT],
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
            orders[:_LIST_LIMIT],
            _here(request),
            caption=f"Orders, newest first ({min(len(orders), _LIST_LIMIT)} of {len(orders)})",
        )

    async def webhooks(self, _request: web.Request) -> str:
        deliveries: dict[object, list[Mapping[str, Any]]] = {}
        for i, entry in enumerate(self.emu.webhook_log):
            deliveries.setdefault(entry.get("delivery", ("entry", i)), []).append(entry)
        sections = []
        newest = list(deliveries.values())[-_LIST_LIMIT:]
        for n, attempts in enumerate(reversed(newest)):
            first = attempts[0]
            rows = []
            for a_i, attempt in enumerate(attempts):
                status = attempt.get("status")
                ok = isinstance(status, int) and 200 <= status < 300
                curl = ""
                headers = attempt.get("headers")
                if isinstance(headers, Mapping):
                    pre_id = f"curl-{n}-{a_i}"
                    command = _curl(str(attempt.get("url")), headers, str(attempt.get("body", "")))
                    curl = (
                        f"<details><summary>Signed request as curl</summary>"
                        f'<pre id="{pre_id}">{esc(command)}</pre>'
                        f'<button type="button" data-copy="{pre_id}">Copy</button></details>'
                    )
                rows.append(
                    f'<tr><th scope="row" class="num">{esc(attempt.get("attempt"))}</th>'
                    f"<td>{badge('success' if ok else 'failed')} {esc(status)}</td>"
                    f"<td>{curl}</td></tr>"
                )
            sections.append(
                f'<section class="delivery"><h2>{esc(first.get("action"))} → '
                f"<code>{esc(first.get('url'))}</code></h2>"
                + table(
                    "Attempts",
                    ("Attempt", "Answer", "Request"),
                    rows,
                    "",
                    quiet=True,
                    numeric=("Attempt",),
                )
                + "</section>"
            )
        key = self._webhook_key()
        if not sections:
            return (
                "<h1>Webhooks</h1><p class=muted>No webhooks sent yet. Orders created with a "
                "<code>callback_url</code> are notified when they are created and paid.</p>" + key
            )
        shown = f"{len(newest)} of {len(deliveries)}"
        return (
            f"<h1>Webhooks</h1><p>Deliveries, newest first ({shown}).</p>" + key + "".join(sections)
        )

    def _webhook_key(self) -> str:
        """The public key the emulator's webhooks verify with, and the body shape they have."""
        readings = self.emu.readings
        return (
            '<section class="webhook-key"><h2>Webhook public key</h2>'
            "<p>Handlers in any language verify this emulator's webhooks with this key (the "
            "portal's <q>Webhook Public Key</q>). Body: <code>webhook_body="
            f"{esc(readings['webhook_body'])}</code>, retries: <code>webhook_resign="
            f"{esc(readings['webhook_resign'])}</code>.</p>"
            f'<pre id="webhook-public-key">{esc(self.emu.webhook_public_key_pem.strip())}</pre>'
            '<button type="button" data-copy="webhook-public-key">Copy</button></section>'
        )

    async def faults(self, request: web.Request) -> str:
        return self.faults_page(self.emu.faults, request.query.get("spec", ""), None)

    def faults_page(self, plan: FaultPlan, spec: str, error: str | None) -> str:
        rows = [
            f'<tr><th scope="row"><code>{esc(route)}</code></th><td>{esc(f.kind)}</td>'
            f'<td class="num">{f.rate:g}</td>'
            f'<td class="num">{"—" if f.param is None else f"{f.param:g} s"}</td></tr>'
            for route, faults in plan.rules.items()
            for f in faults
        ]
        scripts = [
            f'<tr><th scope="row"><code>{esc(route)}</code></th><td>'
            + " | ".join(
                esc(f.kind if f.param is None else f"{f.kind}@{f.param:g}s") for f in queue
            )
            + "</td></tr>"
            for route, queue in plan.scripts.items()
            if queue
        ]
        injected = [
            f'<tr><th scope="row">{esc(kind)}</th><td class="num">{count}</td></tr>'
            for kind, count in sorted(plan.injected.items())
        ]
        problem = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        form = (
            f'<form class="row" method="post" action="{PREFIX}/faults">'
            f'<input type="hidden" name="csrf" value="{esc(self.csrf_token)}">'
            f'<label for="spec">Fault spec (replaces the current rules)'
            f'<input type="text" id="spec" name="spec" value="{esc(spec)}" required '
            f'placeholder="*:503=0.05;orders.create:script=500|ok" spellcheck="false"></label>'
            f"<button type=submit>Set faults</button></form>"
        )
        clear = self._form(f"{PREFIX}/faults/clear", "Clear all faults", css="danger")
        return (
            f"<h1>Faults</h1>{problem}{form}<p>{clear}</p>"
            + table(
                "Rate rules",
                ("Route", "Kind", "Rate", "Parameter"),
                rows,
                "No rate rules set.",
                numeric=("Rate", "Parameter"),
            )
            + table("Scripts (what the next requests get)", ("Route", "Next"), scripts, "")
            + ("" if scripts else '<p class="muted">No scripts set.</p>')
            + table(
                "Faults injected so far",
                ("Kind", "Count"),
                injected,
                "No faults injected.",
                numeric=("Count",),
            )
            + '<p class="muted">Grammar: <code>ROUTE:KIND=RATE[@PARAM],...;'
            "ROUTE:script=KIND|KIND...</code>; routes: <code>*</code>, "
            + ", ".join(f"<code>{esc(r)}</code>" for r in ROUTES)
            + ".</p>"
        )

    async def requests(self, _request: web.Request) -> str:
        counts = self.emu.requests
        rows = [
            f'<tr><th scope="row"><code>{esc(route)}</code></th>'
            f'<td class="num">{counts.get(route, 0)}</td></tr>'
            for route in (*ROUTES, *sorted(set(counts) - set(ROUTES)))
        ]
        total = sum(counts.values())
        return f"<h1>Requests</h1><p>{total} signed API requests so far.</p>" + table(
            "Requests per route", ("Route", "Requests"), rows, "", numeric=("Requests",)
        )
