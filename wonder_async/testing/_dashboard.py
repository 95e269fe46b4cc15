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

Here: the route table, those checks and the actions. The pages are in :mod:`._dashboard_pages`
(customers and orders) and :mod:`._dashboard_traffic` (webhooks, faults, requests), the HTML
they are built of in :mod:`._dashboard_html`, the CSS and script in :mod:`._dashboard_assets`.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from aiohttp import web
from yarl import URL

from ._dashboard_assets import CSS, ICON, JS
from ._dashboard_html import PREFIX, SECURITY_HEADERS, page
from ._dashboard_pages import DashboardPages
from ._faults import parse_faults

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = ["Dashboard"]

#: An action: the checked form in, the page to go to next (or a page to show) out.
_Act = Callable[[web.Request, Mapping[str, str]], Awaitable["str | web.Response"]]


def _back(form: Mapping[str, str], done: str) -> str:
    """The page a form came from (its ``next`` field, a local path only) with a notice."""
    target = URL(form.get("next", "/"))
    # Judged after parsing, which drops tabs and line breaks ("/\t/evil" becomes "//evil").
    local = not target.is_absolute() and target.path.startswith("/")
    if not local or str(target).startswith("//") or "\\" in str(target):
        target = URL("/")
    return str(target.update_query(done=done))


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
        self.pages = DashboardPages(emu, self.csrf_token)

    def install(self, app: web.Application) -> None:
        """Add the dashboard's pages, actions and static files to ``app``."""
        pages = self.pages
        routes: list[tuple[str, Callable[[web.Request], Awaitable[str]]]] = [
            ("/", pages.home),
            (f"{PREFIX}/customers/{{uuid}}", pages.customer),
            (f"{PREFIX}/orders", pages.orders),
            (f"{PREFIX}/webhooks", pages.webhooks),
            (f"{PREFIX}/faults", pages.faults),
            (f"{PREFIX}/requests", pages.requests),
        ]
        for path, render in routes:
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
        app.router.add_get(f"{PREFIX}/static/dashboard.css", self._static(CSS, "text/css"))
        app.router.add_get(
            f"{PREFIX}/static/dashboard.js", self._static(JS, "application/javascript")
        )
        app.router.add_get(f"{PREFIX}/static/icon.svg", self._static(ICON, "image/svg+xml"))

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
                    headers=SECURITY_HEADERS,
                ) from None

    def _check_same_origin(self, request: web.Request) -> None:
        own = _origin(f"{request.scheme}://{request.host}/")
        sent = request.headers.get("Origin") or request.headers.get("Referer")
        if sent is None or own is None or _origin(sent) != own:
            raise web.HTTPForbidden(
                text="Refused: the form was not sent from this dashboard (Origin/Referer).",
                headers=SECURITY_HEADERS,
            )

    def _page(
        self, render: Callable[[web.Request], Awaitable[str]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            self._check_host(request)
            return page(request, await render(request))

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
                    headers=SECURITY_HEADERS,
                )
            target = await act(request, form)
            if isinstance(target, web.Response):
                return target
            raise web.HTTPSeeOther(target, headers=SECURITY_HEADERS)

        return handler

    @staticmethod
    def _static(text: str, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(_request: web.Request) -> web.Response:
            return web.Response(
                text=text, content_type=content_type, headers={"Cache-Control": "no-cache"}
            )

        return handler

    # --- actions (CSRF-checked by _action; each returns where to go next) ----------------------

    async def _challenge(self, request: web.Request, form: Mapping[str, str]) -> str:
        result = form.get("result", "")
        if result not in {"success", "failed"}:
            raise web.HTTPBadRequest(
                text="result must be success or failed", headers=SECURITY_HEADERS
            )
        try:
            self.emu.settle_challenge(request.match_info["verify_uuid"], result)
        except KeyError:
            raise web.HTTPNotFound(
                text="No such 3-D Secure challenge.", headers=SECURITY_HEADERS
            ) from None
        return _back(form, "approved" if result == "success" else "declined")

    async def _pay(self, request: web.Request, form: Mapping[str, str]) -> str:
        number = request.match_info["number"]
        if number not in self.emu.state.orders:
            raise web.HTTPNotFound(text="No such order.", headers=SECURITY_HEADERS)
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
            body = self.pages.faults_page(self.emu.faults, spec, f"Not set: {exc}")
            return page(request, body, status=400)
        plan = self.emu.faults
        plan.clear()
        plan.rules.update(fresh.rules)
        plan.scripts.update(fresh.scripts)
        return f"{PREFIX}/faults?done=faults-set"

    async def _clear_faults(self, _request: web.Request, _form: Mapping[str, str]) -> str:
        self.emu.faults.clear()
        return f"{PREFIX}/faults?done=faults-cleared"
