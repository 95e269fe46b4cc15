"""The emulator: an aiohttp.web server that behaves like Wonder Gateway's Customer API.

It verifies every request's Credential/Nonce/Signature against the app's registered public
key (path with query, exact body, 30-minute clock window), keeps customers, payment tokens and
orders (optionally in SQLite), runs the 3-D Secure challenge on its own pages, and injects
faults by rate or script. Paths and envelopes come from :mod:`wonder_async._wire`, the same
place the client reads them.

This module holds the :class:`Emulator` itself: construction, lifecycle, the route table and
the control endpoints. What every API request goes through (faults, signature check, input
rules, the envelope) is in :mod:`._endpoint`. The handlers live by concern in
:mod:`._customers` (customers, payment tokens, 3-D Secure pages and the test cards),
:mod:`._orders` (orders and the payment-link page), :mod:`._payments` (charges, voids and
refunds), :mod:`._settle` (pending charges and voids settling) and :mod:`._webhooks`
(delivery); keys and signature checks in :mod:`._auth`; shared pieces in :mod:`._common`;
the browser dashboard at ``/`` in :mod:`._dashboard`.

Unsigned control endpoints, for tests in any language: ``POST /__emulator/reset`` empties all
data and counters and puts back the fault rules given at start (``--faults``), dropping rules
added later; ``GET /__emulator/stats`` returns :attr:`Emulator.stats`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import threading
import uuid as uuidlib
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .. import _loops
from .._signing import (
    Signer,
    load_private_key,
    load_public_key,
)
from .._wire import Paths, ok_envelope
from ._auth import MAX_SKEW, ReplayGuard, generate_key_pair, public_pem
from ._common import Handler
from ._customers import THREE_DS_PATH
from ._dashboard import Dashboard
from ._endpoint import EndpointMixin
from ._faults import ROUTES, FaultPlan, parse_faults
from ._orders import PAY_PATH
from ._readings import Readings
from ._state import State

__all__ = ["Emulator", "generate_key_pair"]

#: ``typing.Self`` stand-in (Python 3.10).
_Emulator = TypeVar("_Emulator", bound="Emulator")

#: Control endpoints for tests in any language; unsigned, like the 3-D Secure pages.
_RESET_PATH: Final = "/__emulator/reset"
_STATS_PATH: Final = "/__emulator/stats"
_API_PREFIX: Final = Paths.ECHO.rsplit("/", 1)[0]


class Emulator(EndpointMixin):
    """A stateful, signature-checking Wonder Gateway on a local port.

    ``async with Emulator() as emu:`` starts it on 127.0.0.1 and a free port
    (``emu.base_url``), with an app ``emu.app_id`` whose RSA-2048 key pair is
    ``emu.private_key_pem`` / ``emu.public_key_pem`` (generated once per process and shared, as
    key generation is slow). ``emu.faults`` is the live :class:`FaultPlan`, ``emu.stats`` the
    counters, ``emu.reset()`` empties everything between tests; ``Emulator.in_thread()`` runs
    one for blocking code. Handlers run on one event loop and do not await between reading and
    writing state, so concurrent requests cannot interleave inside an operation.

    :param host: interface to bind (keep it loopback).
    :param port: port, 0 for a free one.
    :param db: SQLite file; with it, data survives restarts.
    :param faults: a fault spec (see :mod:`wonder_async.testing._faults`) or plan.
    :param app_id: the app to register; if omitted, the app already stored in ``db`` for this
        key, else a new uuid.
    :param public_key: the app's public key (PEM, base64-of-PEM or path).
    :param private_key: the app's private key instead (PEM or path), kept as
        :attr:`private_key_pem`; without either key a key pair made once per process is used.
    :param skew: accepted clock difference of a request's Credential time.
    :param dashboard: serve the dashboard (:mod:`wonder_async.testing._dashboard`) at ``/``.
    :param reject_replays: answer 401 to a request whose Nonce and Signature were already seen
        within ``skew`` (the gateway's behaviour is undocumented; off by default).
    :param dedupe_charges: answer a charge whose ``payment.uuid`` was seen before with that
        first charge (the default); ``False`` charges it again, as a gateway that ignores the
        uuid would, so a test can see a client that sends a charge twice.
    :param readings: the value of each reading where the real gateway's behaviour is unknown
        (:data:`~wonder_async.testing.READINGS`), e.g. ``{"charges": "pending"}``; the others
        keep their defaults. ``emu.readings`` is the resulting :class:`Readings`.
    :param pending_seconds: how long a pending charge (``charges=pending``) or void
        (``voids=pending``) stays pending before it settles.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str | Path | None = None,
        faults: str | FaultPlan | None = None,
        app_id: str | None = None,
        public_key: str | bytes | Path | None = None,
        private_key: str | bytes | Path | None = None,
        skew: dt.timedelta = MAX_SKEW,
        dashboard: bool = True,
        reject_replays: bool = False,
        dedupe_charges: bool = True,
        readings: Mapping[str, str] | Readings | None = None,
        pending_seconds: float = 1.0,
    ) -> None:
        if not pending_seconds >= 0:  # also refuses NaN
            raise ValueError(f"pending_seconds: must be 0 or more (got {pending_seconds!r})")
        #: The chosen value of every reading; handlers ask ``self.readings.is_(name, value)``.
        self.readings = readings if isinstance(readings, Readings) else Readings(readings)
        self.pending_seconds = float(pending_seconds)
        if public_key is not None and private_key is not None:
            raise ValueError("give public_key or private_key, not both")
        self.host = host
        self.port = port
        self.skew = skew
        self.replays = ReplayGuard(skew.total_seconds()) if reject_replays else None
        self.dedupe_charges = dedupe_charges
        self.state = State(db)
        self.faults = parse_faults(faults) if isinstance(faults, str) else faults or FaultPlan()
        # reset() puts these back: a suite that resets between tests keeps its --faults.
        self._start_rules = {route: list(rules) for route, rules in self.faults.rules.items()}
        self._start_scripts = {route: list(kinds) for route, kinds in self.faults.scripts.items()}
        self.requests: Counter[str] = Counter()
        #: Keys the emulator tolerated but does not know, per route: ``{route: {field: n}}``.
        self.unknown_keys: dict[str, Counter[str]] = {}
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        #: The app's private key PEM, or ``None`` when only its public key was given.
        self.private_key_pem: str | None
        try:
            if private_key is not None:
                secret = load_private_key(private_key)
                self.private_key_pem = secret.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode()
                self.public_key_pem = public_pem(secret.public_key())
            elif public_key is not None:
                self.private_key_pem = None
                self.public_key_pem = public_pem(load_public_key(public_key))
            else:
                self.private_key_pem, self.public_key_pem = generate_key_pair()
            for known, pem in self.state.apps.items():
                self._keys[known] = load_public_key(pem)
            if app_id is None:
                # Restarting on the same database with the same key keeps the same app id.
                known_ids = (k for k, v in self.state.apps.items() if v == self.public_key_pem)
                app_id = next(known_ids, None) or str(uuidlib.uuid4())
            self.app_id = app_id
            self.register_app(self.app_id, self.public_key_pem)
        except BaseException:
            self.state.close()
            raise
        self._pending_orders = {
            number
            for number, order in self.state.orders.items()
            if any("_settles_at" in t or "_voids_at" in t for t in order["transactions"])
        }
        self._runner: web.AppRunner | None = None
        self._dashboard = Dashboard(self) if dashboard else None
        self.base_url = ""
        #: Wonder's own key pair: webhooks are signed with the private half; merchants verify
        #: them with ``webhook_public_key_pem`` (the portal's "Webhook Public Key").
        self.webhook_private_key_pem, self.webhook_public_key_pem = generate_key_pair("webhook")
        self._webhook_signer = Signer(self.app_id, self.webhook_private_key_pem)
        #: Seconds between webhook delivery attempts; the gateway retries 15 times in 24 h.
        self.webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8)
        #: Every webhook delivery attempt: ``{"action", "url", "status", "attempt", "delivery",
        #: "headers", "body"}`` (``delivery`` numbers the webhook; headers and body as sent).
        self.webhook_log: list[dict[str, Any]] = []
        self._deliveries = itertools.count(1)
        self._webhook_session: aiohttp.ClientSession | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.Task[None]] = set()

    # --- lifecycle ------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all customers, tokens and orders, and counters; restore the start's faults.

        Fault rules and scripts go back to those given to the constructor (``faults=``, or
        ``wonder emulator --faults``); rules added since are dropped.
        """
        self.state.reset()
        self._pending_orders.clear()
        self.faults.clear()
        self.faults.rules.update({k: list(v) for k, v in self._start_rules.items()})
        self.faults.scripts.update({k: deque(v) for k, v in self._start_scripts.items()})
        self.faults.injected.clear()
        if self.replays is not None:
            self.replays.clear()
        self.requests.clear()
        self.unknown_keys.clear()
        self.webhook_log.clear()

    @property
    def dashboard_url(self) -> str | None:
        """Where the browser dashboard is, once started; ``None`` with ``dashboard=False``."""
        if self._dashboard is None or not self.base_url:
            return None
        if self.host in {"0.0.0.0", "::", ""}:  # noqa: S104 - naming the wildcard, not binding it
            # Listening everywhere: a browser on this machine reaches it through loopback.
            loopback = "[::1]" if self.host == "::" else "127.0.0.1"
            return f"http://{loopback}:{self.port}/"
        return f"{self.base_url}/"

    @property
    def stats(self) -> dict[str, Any]:
        """Requests seen per route, faults injected per kind, the active readings and the
        unknown keys tolerated per route (``{"orders.create": {"order.customer": 1}}``), so a
        test can assert that its client sends only documented fields."""
        return {
            "requests": dict(self.requests),
            "faults": dict(self.faults.injected),
            "readings": dict(self.readings),
            "unknown_keys": {route: dict(keys) for route, keys in self.unknown_keys.items()},
        }

    def make_app(self) -> web.Application:
        """Build the aiohttp application, for embedding in another server or a test client.

        :returns: the application with every API route, the 3-D Secure and payment pages and
            the control endpoints.
        """
        app = web.Application(client_max_size=1 << 20)
        api: list[tuple[str, str, str, Handler]] = [
            ("POST", Paths.ECHO, "echo", self._echo),
            ("POST", Paths.CUSTOMERS, "customers.upsert", self._upsert),
            ("GET", Paths.CUSTOMERS, "customers.list", self._list_customers),
            ("GET", Paths.CUSTOMER_BY_REF, "customers.get_by_reference", self._get_by_ref),
            ("POST", Paths.CUSTOMER_BY_TOKEN, "customers.get_by_token", self._get_by_token),
            ("GET", Paths.CUSTOMER, "customers.get", self._get_customer),
            ("PUT", Paths.CUSTOMER, "customers.update", self._update),
            ("POST", Paths.PAYMENT_TOKENS, "payment_tokens.create", self._create_token),
            ("GET", Paths.PAYMENT_TOKENS, "payment_tokens.list", self._list_tokens),
            ("DELETE", Paths.PAYMENT_TOKENS, "payment_tokens.delete", self._delete_token),
            ("POST", Paths.PAYMENT_TOKEN_CHECK, "payment_tokens.check", self._check_token),
            ("POST", Paths.ORDERS, "orders.create", self._create_order),
            ("POST", Paths.ORDER_CHECK, "orders.get", self._get_order),
            ("POST", Paths.ORDER_VOID, "orders.void", self._void),
            ("POST", Paths.ORDER_REFUND, "orders.refund", self._refund),
            ("GET", Paths.ORDERS_LIST, "orders.list", self._list_orders),
            ("POST", Paths.OPEN_PAYMENTS, "payments.create", self._open_payment),
        ]
        for method, path, name, handler in api:
            assert name in ROUTES, name  # fault specs are validated against ROUTES
            app.router.add_route(method, path, self._endpoint(name, handler))
        app.router.add_get(THREE_DS_PATH, self._challenge_page)
        app.router.add_post(THREE_DS_PATH, self._challenge_answer)
        app.router.add_get(PAY_PATH, self._pay_page)
        app.router.add_post(PAY_PATH, self._pay)
        app.router.add_post(_RESET_PATH, self._reset_endpoint)
        app.router.add_get(_STATS_PATH, self._stats_endpoint)
        # Anything else under the API prefix: a 404 envelope, not aiohttp's plain-text page.
        app.router.add_route("*", _API_PREFIX + "/{path:.*}", self._no_such_endpoint)
        if self._dashboard is not None:
            self._dashboard.install(app)
        return app

    async def start(self) -> None:
        """Start serving; sets :attr:`base_url`."""
        # No access log: it would cost per request, and request logs are where card data leaks.
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        try:
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
            await site.start()
        except BaseException:
            # E.g. the port is taken: release the runner and the database, leak nothing.
            await self.stop()
            raise
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{host}:{self.port}"

    async def stop(self) -> None:
        """Stop serving and close the database."""
        tasks = self._background | self._timers
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.state.close()

    async def __aenter__(self: _Emulator) -> _Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @classmethod
    @contextmanager
    def in_thread(cls, **kwargs: Any) -> Iterator[Emulator]:
        """Run an emulator on its own event-loop thread, for blocking code and sync tests.

        ``with Emulator.in_thread() as emu:`` returns once it listens; leaving the block stops
        it, joins the thread and closes its loop, so no thread, socket or loop outlives it.

        :param kwargs: passed to :class:`Emulator`.
        :returns: a context manager giving the running emulator.
        :raises OSError: when it cannot listen (e.g. the port is taken).
        """
        loop = _loops.new_event_loop()  # the emulator's own loop: uvloop's when installed
        try:
            emu = cls(**kwargs)
        except BaseException:
            loop.close()
            raise
        ready = threading.Event()
        stop: asyncio.Event | None = None  # created on the emulator's loop
        failure: list[BaseException] = []

        async def main() -> None:
            nonlocal stop
            stop = asyncio.Event()
            try:
                await emu.start()
            except BaseException as exc:  # handed to the caller's thread, not lost here
                failure.append(exc)
                return
            finally:
                ready.set()
            try:
                await stop.wait()
            finally:
                await emu.stop()

        def run() -> None:
            try:
                loop.run_until_complete(main())
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())

        thread = threading.Thread(target=run, name="wonder-emulator", daemon=True)
        thread.start()
        ready.wait()
        try:
            if failure:
                raise failure[0]
            yield emu
        finally:
            if stop is not None and not failure:
                loop.call_soon_threadsafe(stop.set)
            thread.join()
            loop.close()

    # --- control endpoints ------------------------------------------------------------------

    async def _stats_endpoint(self, _request: web.Request) -> web.Response:
        return web.json_response(ok_envelope(self.stats))

    async def _reset_endpoint(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response(ok_envelope({"reset": True}))

    # --- echo --------------------------------------------------------------------------------

    async def _echo(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        return {"message": body.get("message")}, 200
