"""The emulator's dashboard: its state in a browser, served by the emulator itself at ``/``.

Plain server-rendered HTML (no build step, works without JavaScript; a small script refreshes
the page while nobody is typing). Pages: customers (search by reference), one customer's
tokens and orders, all orders, the webhook log with each attempt as a copyable ``curl``
command, faults, and request counts. Actions are POST forms: approve or decline a pending
3-D Secure challenge, pay an order, reset, set or clear faults.

Safety: every value is HTML-escaped (customer names are hostile input); card numbers are shown
masked (the emulator never stores a full number or a CVV) and no key is ever shown. Every POST
must carry the emulator's random CSRF token *and* an ``Origin`` (or ``Referer``) of the
dashboard's own origin, else 403. Pages answer only to a ``Host`` that is an IP address,
``localhost`` or the bind host, so a DNS-rebinding page cannot read them.
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import re
import secrets
import shlex
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from yarl import URL

from .._models import mask_card_number
from ._faults import ROUTES, FaultPlan, parse_faults

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = ["Dashboard"]

#: Everything but the home page lives under this prefix, away from the API's ``/svc/``.
PREFIX: Final = "/dashboard"
#: An action: the checked form in, the page to go to next (or a page to show) out.
_Act = Callable[[web.Request, Mapping[str, str]], Awaitable["str | web.Response"]]
_LIST_LIMIT: Final = 100
_H1: Final = re.compile(r"<h1>(.*?)</h1>", re.S)
_TAGS: Final = re.compile(r"<[^>]*>")
_ORDER_COLUMNS: Final = (
    "Number", "Reference", "Customer", "Amount", "Paid", "State / payment", "Callback", "Action"
)  # fmt: skip
#: Orders the payment link (``Emulator.pay_order``) still pays.
_PAYABLE: Final = frozenset({"unpaid", "partial_paid"})

_CSS: Final = """
:root { color-scheme: light dark; --muted: #666; --line: #ccc; --accent: #0b57d0; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; }
header { background: #1d2733; color: #fff; padding: .5em 1em; display: flex;
  flex-wrap: wrap; gap: 1em; align-items: center; }
header a { color: #fff; } header a[aria-current] { font-weight: bold; text-decoration: none; }
header nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 1em; margin: 0;
  padding: 0; }
header .brand { font-weight: bold; }
header label { margin-left: auto; font-size: .9em; }
main { padding: 0 1em 2em; max-width: 72em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; width: 100%; }
caption { text-align: left; font-weight: bold; padding: .3em 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3em .5em; text-align: left;
  vertical-align: top; }
thead th { border-bottom: 2px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
form.inline { display: inline; }
form.row { display: flex; flex-wrap: wrap; gap: .5em; align-items: end; margin: .5em 0 1em; }
form.row label { display: flex; flex-direction: column; font-size: .9em; }
input[type=search], input[type=text] { min-width: 20em; padding: .3em; font: inherit; }
button { font: inherit; padding: .2em .7em; cursor: pointer; }
button.danger { color: #b00020; }
.muted { color: var(--muted); }
.state { font-weight: bold; }
.state-success, .state-paid, .state-completed { color: #137333; }
.state-failed, .state-error { color: #b00020; }
.state-pending { color: #b06000; }
pre { background: rgba(127,127,127,.12); padding: .6em; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; }
p.notice { border-left: 4px solid var(--accent); padding: .3em .7em;
  background: rgba(11,87,208,.08); }
p.error { border-left: 4px solid #b00020; padding: .3em .7em; }
a.skip { position: absolute; left: -9999px; }
a.skip:focus { left: 1em; top: .5em; background: #fff; color: #000; padding: .3em .6em;
  z-index: 1; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
section.delivery { border-top: 1px solid var(--line); padding-top: .3em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1.5em; }
dt { font-weight: bold; } dd { margin: 0; }
tr.sub > td { border-bottom: 1px solid var(--line); padding-top: 0; }
tr.sub table { margin: 0 0 .5em; font-size: .92em; }
tr.sub caption { font-weight: normal; font-style: italic; }
"""

#: Live refresh without losing anything: it skips a round while a field has focus, text is
#: selected or a <details> is open, and is switched off by the header's checkbox.
_JS: Final = """
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box) { return; }
  box.parentElement.hidden = false;
  box.checked = localStorage.getItem("wonder-dashboard-live") !== "off";
  box.addEventListener("change", function () {
    localStorage.setItem("wonder-dashboard-live", box.checked ? "on" : "off");
  });
  function busy() {
    var a = document.activeElement;
    if (a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) { return true; }
    if (String(window.getSelection()).length) { return true; }
    return document.querySelector("main details[open]") !== null;
  }
  function tick() {
    if (!box.checked || busy() || document.hidden) { return; }
    fetch(location.href, {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (text) {
      if (text === null || busy()) { return; }
      var doc = new DOMParser().parseFromString(text, "text/html");
      var fresh = doc.querySelector("main"), main = document.querySelector("main");
      if (fresh && main && fresh.innerHTML !== main.innerHTML) {
        main.innerHTML = fresh.innerHTML;
      }
    }).catch(function () {});
  }
  setInterval(tick, 1500);
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-copy]");
    if (!b || !navigator.clipboard) { return; }
    var pre = document.getElementById(b.getAttribute("data-copy"));
    navigator.clipboard.writeText(pre.textContent).then(function () {
      b.textContent = "Copied";
    });
  });
})();
"""

#: A small "W" tile, so browsers do not ask for /favicon.ico (a 404 in every console).
_ICON: Final = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#1d2733"/>'
    '<path d="M3 4l2 8 3-6 3 6 2-8" fill="none" stroke="#fff" stroke-width="1.6"/></svg>'
)

_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_NAV: Final = (
    ("/", "Customers"),
    (f"{PREFIX}/orders", "Orders"),
    (f"{PREFIX}/webhooks", "Webhooks"),
    (f"{PREFIX}/faults", "Faults"),
    (f"{PREFIX}/requests", "Requests"),
)

#: What a finished action says on the page it returns to (fixed texts: nothing from a URL).
_NOTICES: Final = {
    "reset": "All customers, tokens, orders, webhooks, faults and counters were reset.",
    "approved": "The 3-D Secure challenge was approved.",
    "declined": "The 3-D Secure challenge was declined.",
    "paid": "The order was paid.",
    "faults-set": "The fault spec is set.",
    "faults-cleared": "All fault rules and scripts were cleared.",
}


def _e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute; ``None`` shows as a dash."""
    return "—" if value is None else html.escape(str(value), quote=True)


def _state(value: object) -> str:
    text = "—" if value is None else str(value)
    css = "".join(ch for ch in text if ch.isalnum() or ch in "-_")
    return f'<span class="state state-{css}">{_e(text)}</span>'


def _table(
    caption: str,
    headers: Iterable[str],
    rows: list[str],
    empty: str,
    *,
    quiet: bool = False,
    numeric: Iterable[str] = (),
) -> str:
    """A table with column headers; ``quiet`` hides the caption from sight (a heading says it).

    ``numeric`` names the columns whose cells are right-aligned numbers.
    """
    if not rows:
        return f'<p class="muted">{_e(empty)}</p>'
    right = set(numeric)
    head = "".join(
        f'<th scope="col"{" class=num" if h in right else ""}>{_e(h)}</th>' for h in headers
    )
    return (
        f"<table><caption{' class=vh' if quiet else ''}>{_e(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _curl(url: str, headers: Mapping[str, str], body: str) -> str:
    """A ``curl`` command that sends exactly this request again (shell-quoted)."""
    lines = [f"curl -X POST {shlex.quote(url)}"]
    lines += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items()]
    lines.append(f"--data-raw {shlex.quote(body)}")
    return " \\\n  ".join(lines)


def _back(form: Mapping[str, str], done: str) -> str:
    """The page a form came from (its ``next`` field, a local path only) with a notice."""
    target = URL(form.get("next", "/"))
    # Judged after parsing, which drops tabs and line breaks ("/\t/evil" becomes "//evil").
    local = not target.is_absolute() and target.path.startswith("/")
    if not local or str(target).startswith("//") or "\\" in str(target):
        target = URL("/")
    return str(target.update_query(done=done))


def _here(request: web.Request) -> str:
    """This page's path and query, without the notice of the last action."""
    query = {k: v for k, v in request.query.items() if k != "done"}
    return str(request.rel_url.with_query(query))


def _host_name(host_header: str) -> str:
    """The host part of a ``Host`` header, without port or IPv6 brackets, lower case."""
    if host_header.startswith("["):
        return host_header[1:].partition("]")[0].lower()
    return host_header.rpartition(":")[0].lower() if ":" in host_header else host_header.lower()


def _origin(url: str) -> tuple[str, str | None, int | None] | None:
    try:
        parsed = URL(url)
    except ValueError:
        return None
    if not parsed.is_absolute():
        return None
    return parsed.scheme.lower(), (parsed.host or "").lower(), parsed.port


class Dashboard:
    """The dashboard of one :class:`Emulator`; :meth:`install` adds its routes to an app.

    :param emu: the emulator whose state it shows and drives.
    """

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        #: Per-emulator CSRF token, sent in every form's hidden ``csrf`` field.
        self.csrf_token = secrets.token_urlsafe(32)

    def install(self, app: web.Application) -> None:
        """Add the dashboard's pages, actions and static files to ``app``."""
        pages: list[tuple[str, Callable[[web.Request], Awaitable[str]]]] = [
            ("/", self._home),
            (f"{PREFIX}/customers/{{uuid}}", self._customer),
            (f"{PREFIX}/orders", self._orders),
            (f"{PREFIX}/webhooks", self._webhooks),
            (f"{PREFIX}/faults", self._faults),
            (f"{PREFIX}/requests", self._requests),
        ]
        for path, render in pages:
            app.router.add_get(path, self._page(render))
        actions: list[tuple[str, _Act]] = [
            (f"{PREFIX}/challenges/{{verify_uuid}}", self._challenge),
            (f"{PREFIX}/orders/{{number}}/pay", self._pay),
            (f"{PREFIX}/reset", self._reset),
            (f"{PREFIX}/faults", self._set_faults),
            (f"{PREFIX}/faults/clear", self._clear_faults),
        ]
        for path, act in actions:
            app.router.add_post(path, self._action(act))
        app.router.add_get(f"{PREFIX}/static/dashboard.css", self._static(_CSS, "text/css"))
        app.router.add_get(
            f"{PREFIX}/static/dashboard.js", self._static(_JS, "application/javascript")
        )
        app.router.add_get(f"{PREFIX}/static/icon.svg", self._static(_ICON, "image/svg+xml"))

    # --- plumbing -----------------------------------------------------------------------------

    def _check_host(self, request: web.Request) -> None:
        """Refuse a ``Host`` a DNS-rebinding page could send (anything but an IP or loopback)."""
        name = _host_name(request.host)
        try:
            ipaddress.ip_address(name)
        except ValueError:
            allowed = {"localhost", self.emu.host.lower()}
            if name not in allowed and not name.endswith(".localhost"):
                raise web.HTTPForbidden(
                    text=f"The dashboard answers only to an IP address or localhost, not "
                    f"Host {request.host!r}.",
                    headers=_SECURITY_HEADERS,
                ) from None

    def _check_same_origin(self, request: web.Request) -> None:
        own = _origin(f"{request.scheme}://{request.host}/")
        sent = request.headers.get("Origin") or request.headers.get("Referer")
        if sent is None or own is None or _origin(sent) != own:
            raise web.HTTPForbidden(
                text="Refused: the form was not sent from this dashboard (Origin/Referer).",
                headers=_SECURITY_HEADERS,
            )

    def _page(
        self, render: Callable[[web.Request], Awaitable[str]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            self._check_host(request)
            return self._html(request, await render(request))

        return handler

    def _action(self, act: _Act) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            self._check_host(request)
            self._check_same_origin(request)
            posted = await request.post()
            form = {k: v for k, v in posted.items() if isinstance(v, str)}
            if not hmac.compare_digest(form.get("csrf", ""), self.csrf_token):
                raise web.HTTPForbidden(
                    text="Refused: the form's CSRF token is missing or wrong; reload the page.",
                    headers=_SECURITY_HEADERS,
                )
            target = await act(request, form)
            if isinstance(target, web.Response):
                return target
            raise web.HTTPSeeOther(target, headers=_SECURITY_HEADERS)

        return handler

    @staticmethod
    def _static(text: str, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(_request: web.Request) -> web.Response:
            return web.Response(
                text=text, content_type=content_type, headers={"Cache-Control": "no-cache"}
            )

        return handler

    def _html(self, request: web.Request, body: str, *, status: int = 200) -> web.Response:
        here = request.path
        links = "".join(
            f'<li><a href="{path}"{" aria-current=page" if path == here else ""}>{name}</a></li>'
            for path, name in _NAV
        )
        # The page's title is its (already escaped) first heading, e.g. "Customer ref-1".
        heading = _H1.search(body)
        title = _TAGS.sub("", heading.group(1)) + " · " if heading else ""
        notice = _NOTICES.get(request.query.get("done", ""))
        flash = f'<p class="notice" role="status">{_e(notice)}</p>' if notice else ""
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}Wonder emulator dashboard</title>
<link rel="stylesheet" href="{PREFIX}/static/dashboard.css">
<link rel="icon" href="{PREFIX}/static/icon.svg" type="image/svg+xml">
<script src="{PREFIX}/static/dashboard.js" defer></script>
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><span class="brand">Wonder emulator</span>
<nav aria-label="Dashboard"><ul>{links}</ul></nav>
<label hidden><input type="checkbox" id="live"> Live refresh</label></header>
<main id="main">{flash}{body}</main>
</body></html>"""
        return web.Response(
            text=page, content_type="text/html", status=status, headers=_SECURITY_HEADERS
        )

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
            f'<input type="hidden" name="{_e(k)}" value="{_e(v)}">'
            for k, v in {"csrf": self.csrf_token, **(fields or {})}.items()
        )
        extra = f'<span class="vh"> {_e(label)}</span>' if label else ""
        css = f' class="{_e(css)}"' if css else ""
        return (
            f'<form class="inline" method="post" action="{_e(action)}">{hidden}'
            f"<button type=submit{css}>{_e(button)}{extra}</button></form>"
        )

    # --- pages --------------------------------------------------------------------------------

    def _customer_link(self, customer: Mapping[str, Any]) -> str:
        uuid = str(customer.get("uuid", ""))
        return f'<a href="{PREFIX}/customers/{_e(uuid)}">{_e(customer.get("reference_number"))}</a>'

    async def _home(self, request: web.Request) -> str:
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
                f'<tr><th scope="row">{self._customer_link(c)}</th><td>{_e(c.get("name"))}</td>'
                f"<td>{_e(c.get('email'))}</td><td>{_e(c.get('company_name'))}</td>"
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
            f'value="{_e(wanted)}"></label><button type="submit">Search</button></form>'
        )
        reset = self._form(
            f"{PREFIX}/reset",
            "Reset all state",
            css="danger",
            label="(customers, tokens, orders, webhook log, faults, counters)",
        )
        return (
            f"<h1>Customers</h1>{search}"
            + _table(
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
                f' <span class="muted">{_e(t.get("error_code"))}: {_e(t.get("error_msg"))}</span>'
                if t.get("error_code")
                else ""
            )
            rows.append(
                f'<tr><th scope="row"><code>{_e(t.get("token"))}</code></th>{owner}'
                f"<td><code>{_e(number)}</code> {_e(card.get('brand'))}</td>"
                f"<td>{_e(card.get('holder_name'))}</td>"
                f"<td>{_e(card.get('exp_month'))}/{_e(card.get('exp_year'))}</td>"
                f"<td>{_state(t.get('state'))}{error}</td><td>{'yes' if default else ''}</td>"
                f"<td>{self._challenge_buttons(t, number, here)}</td></tr>"
            )
        headers = ["Token", *(["Customer"] if with_owner else []), "Card", "Holder"]
        headers += ["Expiry", "State", "Default", "3-D Secure"]
        return _table(caption, headers, rows, empty, quiet=quiet)

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
            if o.get("refunded_total") not in (None, "0.00"):
                refunded = f"<br>refunded {_e(o.get('refunded_total'))}"
            rows.append(
                f'<tr><th scope="row"><code>{_e(number)}</code></th>'
                f"<td>{_e(o.get('reference_number'))}</td>"
                f"<td>{self._customer_link(customer) if customer else '—'}</td>"
                f'<td class="num">{_e(o.get("charge_fee"))} {_e(o.get("currency"))}</td>'
                f'<td class="num">{_e(o.get("paid_total"))}'
                f"{refunded}</td>"
                f"<td>{_state(o.get('state'))} / {_state(o.get('correspondence_state'))}</td>"
                f"<td>{_e(o.get('callback_url'))}</td><td>{pay}</td></tr>"
                + self._transactions_row(o)
            )
        return _table(
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
                    f"{_e(data.get('first_6_digits'))}…{_e(data.get('last_4_digits'))} "
                    f"{_e(data.get('credit_card_type'))}"
                )
            if t.get("voided"):
                result = _state("voided")
            elif t.get("success", True):
                result = _state("success")
            else:
                result = _state("failed") + (
                    f' <span class="muted">{_e(t.get("failure_code"))}: '
                    f"{_e(t.get('failure_message'))}</span>"
                )
            rows.append(
                f'<tr><th scope="row">{_e(t.get("type"))}</th>'
                f'<td class="num">{_e(t.get("amount"))} {_e(t.get("currency"))}</td>'
                f"<td>{result}</td><td>{card}</td><td>{_e(t.get('created_at'))}</td>"
                f"<td><code>{_e(t.get('uuid'))}</code></td></tr>"
            )
        table = _table(
            f"Transactions of order {order.get('number')}",
            ("Type", "Amount", "Result", "Card", "Created", "UUID"),
            rows,
            "",
            numeric=("Amount",),
        )
        return f'<tr class="sub"><td></td><td colspan="7">{table}</td></tr>'

    async def _customer(self, request: web.Request) -> str:
        state = self.emu.state
        customer = state.customers.get(request.match_info["uuid"])
        if customer is None:
            raise web.HTTPNotFound(text="No such customer.", headers=_SECURITY_HEADERS)
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
        facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in fields)
        tokens = [state.tokens[t] for t in state.customer_tokens.get(customer["uuid"], ())]
        orders = [o for o in state.orders.values() if o.get("customer_uuid") == customer["uuid"]]
        return (
            f"<h1>Customer {_e(customer.get('reference_number'))}</h1><dl>{facts}</dl>"
            "<h2>Payment tokens</h2>"
            + self._token_table(tokens, _here(request), caption="Payment tokens", quiet=True)
            + "<h2>Orders</h2>"
            + self._order_table(orders, _here(request), caption="Orders", quiet=True)
        )

    async def _orders(self, request: web.Request) -> str:
        orders = list(reversed(self.emu.state.orders.values()))
        return "<h1>Orders</h1>" + self._order_table(
            orders[:_LIST_LIMIT],
            _here(request),
            caption=f"Orders, newest first ({min(len(orders), _LIST_LIMIT)} of {len(orders)})",
        )

    async def _webhooks(self, _request: web.Request) -> str:
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
                        f'<pre id="{pre_id}">{_e(command)}</pre>'
                        f'<button type="button" data-copy="{pre_id}">Copy</button></details>'
                    )
                rows.append(
                    f'<tr><th scope="row" class="num">{_e(attempt.get("attempt"))}</th>'
                    f"<td>{_state('success' if ok else 'failed')} {_e(status)}</td>"
                    f"<td>{curl}</td></tr>"
                )
            sections.append(
                f'<section class="delivery"><h2>{_e(first.get("action"))} → '
                f"<code>{_e(first.get('url'))}</code></h2>"
                + _table(
                    "Attempts",
                    ("Attempt", "Answer", "Request"),
                    rows,
                    "",
                    quiet=True,
                    numeric=("Attempt",),
                )
                + "</section>"
            )
        if not sections:
            return (
                "<h1>Webhooks</h1><p class=muted>No webhooks sent yet. Orders created with a "
                "<code>callback_url</code> are notified when they are created and paid.</p>"
            )
        shown = f"{len(newest)} of {len(deliveries)}"
        return f"<h1>Webhooks</h1><p>Deliveries, newest first ({shown}).</p>" + "".join(sections)

    async def _faults(self, request: web.Request) -> str:
        return self._faults_page(self.emu.faults, request.query.get("spec", ""), None)

    def _faults_page(self, plan: FaultPlan, spec: str, error: str | None) -> str:
        rows = [
            f'<tr><th scope="row"><code>{_e(route)}</code></th><td>{_e(f.kind)}</td>'
            f'<td class="num">{f.rate:g}</td>'
            f'<td class="num">{"—" if f.param is None else f"{f.param:g} s"}</td></tr>'
            for route, faults in plan.rules.items()
            for f in faults
        ]
        scripts = [
            f'<tr><th scope="row"><code>{_e(route)}</code></th><td>'
            + " | ".join(_e(f.kind if f.param is None else f"{f.kind}@{f.param:g}s") for f in queue)
            + "</td></tr>"
            for route, queue in plan.scripts.items()
            if queue
        ]
        injected = [
            f'<tr><th scope="row">{_e(kind)}</th><td class="num">{count}</td></tr>'
            for kind, count in sorted(plan.injected.items())
        ]
        problem = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
        form = (
            f'<form class="row" method="post" action="{PREFIX}/faults">'
            f'<input type="hidden" name="csrf" value="{_e(self.csrf_token)}">'
            f'<label for="spec">Fault spec (replaces the current rules)'
            f'<input type="text" id="spec" name="spec" value="{_e(spec)}" required '
            f'placeholder="*:503=0.05;orders.create:script=500|ok" spellcheck="false"></label>'
            f"<button type=submit>Set faults</button></form>"
        )
        clear = self._form(f"{PREFIX}/faults/clear", "Clear all faults", css="danger")
        return (
            f"<h1>Faults</h1>{problem}{form}<p>{clear}</p>"
            + _table(
                "Rate rules",
                ("Route", "Kind", "Rate", "Parameter"),
                rows,
                "No rate rules set.",
                numeric=("Rate", "Parameter"),
            )
            + _table("Scripts (what the next requests get)", ("Route", "Next"), scripts, "")
            + ("" if scripts else '<p class="muted">No scripts set.</p>')
            + _table(
                "Faults injected so far",
                ("Kind", "Count"),
                injected,
                "No faults injected.",
                numeric=("Count",),
            )
            + '<p class="muted">Grammar: <code>ROUTE:KIND=RATE[@PARAM],...;'
            "ROUTE:script=KIND|KIND...</code>; routes: <code>*</code>, "
            + ", ".join(f"<code>{_e(r)}</code>" for r in ROUTES)
            + ".</p>"
        )

    async def _requests(self, _request: web.Request) -> str:
        counts = self.emu.requests
        rows = [
            f'<tr><th scope="row"><code>{_e(route)}</code></th>'
            f'<td class="num">{counts.get(route, 0)}</td></tr>'
            for route in (*ROUTES, *sorted(set(counts) - set(ROUTES)))
        ]
        total = sum(counts.values())
        return f"<h1>Requests</h1><p>{total} signed API requests so far.</p>" + _table(
            "Requests per route", ("Route", "Requests"), rows, "", numeric=("Requests",)
        )

    # --- actions (CSRF-checked by _action; each returns where to go next) ----------------------

    async def _challenge(self, request: web.Request, form: Mapping[str, str]) -> str:
        result = form.get("result", "")
        if result not in {"success", "failed"}:
            raise web.HTTPBadRequest(
                text="result must be success or failed", headers=_SECURITY_HEADERS
            )
        try:
            self.emu.settle_challenge(request.match_info["verify_uuid"], result)
        except KeyError:
            raise web.HTTPNotFound(
                text="No such 3-D Secure challenge.", headers=_SECURITY_HEADERS
            ) from None
        return _back(form, "approved" if result == "success" else "declined")

    async def _pay(self, request: web.Request, form: Mapping[str, str]) -> str:
        number = request.match_info["number"]
        if number not in self.emu.state.orders:
            raise web.HTTPNotFound(text="No such order.", headers=_SECURITY_HEADERS)
        await self.emu.pay_order(number)
        return _back(form, "paid")

    async def _reset(self, _request: web.Request, _form: Mapping[str, str]) -> str:
        self.emu.reset()
        return _back({}, "reset")  # the customers page: the page it came from is empty now

    async def _set_faults(
        self, request: web.Request, form: Mapping[str, str]
    ) -> str | web.Response:
        spec = form.get("spec", "")
        try:
            fresh = parse_faults(spec)
        except ValueError as exc:
            page = self._faults_page(self.emu.faults, spec, f"Not set: {exc}")
            return self._html(request, page, status=400)
        plan = self.emu.faults
        plan.clear()
        plan.rules.update(fresh.rules)
        plan.scripts.update(fresh.scripts)
        return f"{PREFIX}/faults?done=faults-set"

    async def _clear_faults(self, _request: web.Request, _form: Mapping[str, str]) -> str:
        self.emu.faults.clear()
        return f"{PREFIX}/faults?done=faults-cleared"
