"""The emulator: an aiohttp.web server that behaves like Wonder Gateway's Customer API.

It verifies every request's Credential/Nonce/Signature against the app's registered public
key (path with query, exact body, 30-minute clock window), keeps customers, payment tokens and
orders (optionally in SQLite), runs the 3-D Secure challenge on its own pages, and injects
faults by rate or script. Paths and envelopes come from :mod:`wonder_async._wire`, the same
place the client reads them.

Test cards: ``4242424242424242`` binds at once (``state="success"``); ``4000000000000002``
is declined (``state="failed"`` with ``error_code``/``error_msg``); ``4000000000003220`` and
every other Luhn-valid number are ``pending`` until the challenge at ``verify_url``
(``{base_url}/3ds/{verify_uuid}``) is approved or declined: GET shows Approve/Decline forms,
POST ``result=success|failed`` settles the token and answers 303 to the token's
``success_return_url``/``fail_return_url``. A number failing the Luhn check is a 400.

Unsigned control endpoints, for tests in any language: ``POST /__emulator/reset`` empties all
data, fault rules and counters; ``GET /__emulator/stats`` returns :attr:`Emulator.stats`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import itertools
import json
import re
import socket
import struct
import threading
import time
import uuid as uuidlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final, Self

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yarl import URL

from .._models import DEFAULT_PAYMENT_METHODS, TRANSACTION_TYPES, mask_card_number
from .._signing import (
    ALGORITHM,
    Signer,
    load_private_key,
    load_public_key,
    parse_credential,
    parse_request_time,
    verify_signature,
)
from .._wire import Paths, error_envelope, ok_envelope
from ._faults import ROUTES, FaultPlan, parse_faults
from ._state import State

__all__ = ["Emulator", "generate_key_pair"]

MAX_SKEW: Final = dt.timedelta(minutes=30)
FRICTIONLESS_CARD: Final = "4242424242424242"
DECLINED_CARD: Final = "4000000000000002"
_NONCE = re.compile(r"^[0-9A-Za-z]{16}$")
#: Control endpoints for tests in any language; unsigned, like the 3-D Secure pages.
_RESET_PATH: Final = "/__emulator/reset"
_STATS_PATH: Final = "/__emulator/stats"
_THREE_DS_PATH: Final = "/3ds/{verify_uuid}"
_PAY_PATH: Final = "/pay/{number}"
#: Fault kinds that let the request be processed and spoil only the answer.
_AFTER_FAULTS: Final = frozenset({"reset_after", "truncated"})

Handler = Callable[[web.Request, Any], Awaitable[tuple[dict[str, Any], int]]]


class _Reject(Exception):
    """An error answer: HTTP status, Wonder code, message."""

    def __init__(self, status: int, code: str | int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _bad(message: str) -> _Reject:
    return _Reject(400, 400, message)


@cache
def generate_key_pair(purpose: str = "app") -> tuple[str, str]:
    """Return ``(private_pem, public_pem)`` of an RSA-2048 pair, made once per process.

    :param purpose: one pair per purpose (``app`` for request signing, ``webhook`` for
        the gateway's own webhook key).
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


@lru_cache(maxsize=256)
def _request_epoch(request_time: str) -> float:
    """POSIX time of a Credential's request time; cached because at load most share a second.

    :raises ValueError: when it is not ``yyyymmddHHMMSS``.
    """
    return parse_request_time(request_time).timestamp()


def _public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


def _text(obj: dict[str, Any], key: str, prefix: str, *, required: bool, max_len: int = 255) -> Any:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise _bad(f"{prefix}{key} is required")
        return None
    if not isinstance(value, str):
        raise _bad(f"{prefix}{key} must be a string")
    if len(value) > max_len:
        raise _bad(f"{prefix}{key} must be at most {max_len} characters")
    return value


#: Every key of a Customer object, in the order the gateway documents them.
_CUSTOMER_KEYS: Final = (
    "name",
    "email",
    "dial_code",
    "phone",
    "company_name",
    "reference_number",
    "default_payment_method",
    "uuid",
    "default_payment_token",
)

_CUSTOMER_FIELDS: Final = (
    ("name", 255),
    ("email", 255),
    ("dial_code", 6),
    ("phone", 255),
    ("company_name", 255),
    ("default_payment_method", 255),
    ("default_payment_token", 64),
)


class Emulator:
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
    ) -> None:
        if public_key is not None and private_key is not None:
            raise ValueError("give public_key or private_key, not both")
        self.host = host
        self.port = port
        self.skew = skew
        self.state = State(db)
        self.faults = parse_faults(faults) if isinstance(faults, str) else faults or FaultPlan()
        self.requests: Counter[str] = Counter()
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
                self.public_key_pem = _public_pem(secret.public_key())
            elif public_key is not None:
                self.private_key_pem = None
                self.public_key_pem = _public_pem(load_public_key(public_key))
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
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        #: Wonder's own key pair: webhooks are signed with the private half; merchants verify
        #: them with ``webhook_public_key_pem`` (the portal's "Webhook Public Key").
        self.webhook_private_key_pem, self.webhook_public_key_pem = generate_key_pair("webhook")
        self._webhook_signer = Signer(self.app_id, self.webhook_private_key_pem)
        #: Seconds between webhook delivery attempts; the gateway retries 15 times in 24 h.
        self.webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8)
        #: Every webhook delivery attempt: ``{"action", "url", "status", "attempt"}``.
        self.webhook_log: list[dict[str, Any]] = []
        self._webhook_session: aiohttp.ClientSession | None = None
        self._background: set[asyncio.Task[None]] = set()

    # --- lifecycle ------------------------------------------------------------------------

    def register_app(self, app_id: str, public_key: str | bytes | Path) -> None:
        """Accept requests signed for ``app_id`` with the private half of ``public_key``."""
        key = load_public_key(public_key)
        self._keys[app_id] = key
        self.state.save_app(app_id, _public_pem(key))

    def reset(self) -> None:
        """Forget all customers, tokens and orders, fault rules and counters."""
        self.state.reset()
        self.faults.clear()
        self.faults.injected.clear()
        self.requests.clear()
        self.webhook_log.clear()

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        """Requests seen per route and faults injected per kind."""
        return {"requests": dict(self.requests), "faults": dict(self.faults.injected)}

    def make_app(self) -> web.Application:
        """The aiohttp application (for embedding in another server or test client)."""
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
        ]
        for method, path, name, handler in api:
            assert name in ROUTES, name  # fault specs are validated against ROUTES
            app.router.add_route(method, path, self._endpoint(name, handler))
        app.router.add_get(_THREE_DS_PATH, self._challenge_page)
        app.router.add_post(_THREE_DS_PATH, self._challenge_answer)
        app.router.add_get(_PAY_PATH, self._pay_page)
        app.router.add_post(_PAY_PATH, self._pay)
        app.router.add_post(_RESET_PATH, self._reset_endpoint)
        app.router.add_get(_STATS_PATH, self._stats_endpoint)
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
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.wait(self._background)
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.state.close()

    async def __aenter__(self) -> Self:
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
        :raises OSError: when it cannot listen (e.g. the port is taken).
        """
        loop = asyncio.new_event_loop()
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

    # --- request handling -------------------------------------------------------------------

    def _endpoint(
        self, name: str, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            self.requests[name] += 1
            latency, fault = self.faults.draw(name)
            if latency:
                await asyncio.sleep(latency)
            after = None
            if fault is not None:
                if fault.kind not in _AFTER_FAULTS:
                    return self._early_fault(request, fault.kind, fault.param)
                after = fault.kind
            body = await request.read()
            status = 200
            try:
                self._authenticate(request, body)
                try:
                    payload = json.loads(body) if body else {}
                except ValueError:
                    raise _bad("request body is not valid JSON") from None
                if not isinstance(payload, dict):
                    raise _bad("request body must be a JSON object")
                data, status = await handler(request, payload)
                envelope = ok_envelope(data)
            except _Reject as exc:
                status, envelope = exc.status, error_envelope(exc.code, exc.message)
            # Faults after processing spoil any answer, success or error, as a proxy would.
            if after == "reset_after":
                return _reset(request)
            text = json.dumps(envelope)
            if after == "truncated":
                text = text[: len(text) // 2]
            return web.Response(text=text, status=status, content_type="application/json")

        return endpoint

    def _early_fault(self, request: web.Request, kind: str, param: float | None) -> web.Response:
        if kind == "reset":
            return _reset(request)
        if kind == "nonjson":
            return web.Response(
                text="<html><body>Bad gateway</body></html>", content_type="text/html"
            )
        status = int(kind)
        headers = {"Retry-After": f"{param if param is not None else 1:g}"} if status == 429 else {}
        envelope = error_envelope(status, "injected fault")
        return web.json_response(envelope, status=status, headers=headers)

    def _authenticate(self, request: web.Request, body: bytes) -> None:
        headers = request.headers
        credential = headers.get("Credential")
        nonce = headers.get("Nonce")
        signature = headers.get("Signature")
        if not credential or not nonce or not signature or not _NONCE.match(nonce):
            raise _Reject(401, "E000002", "Invalid Credential Format.")
        try:
            app_id, request_time, algorithm = parse_credential(credential)
            sent_at = _request_epoch(request_time)
        except ValueError:
            raise _Reject(401, "E000002", "Invalid Credential Format.") from None
        if algorithm != ALGORITHM:
            raise _Reject(401, "E000002", "Invalid Credential Format.")
        key = self._keys.get(app_id)
        if key is None:
            raise _Reject(403, "E000003", "Unknown AppID.")
        if abs(time.time() - sent_at) > self.skew.total_seconds():
            raise _Reject(401, "E000005", "Request time differs from server time by > 30 min.")
        ok = verify_signature(
            key,
            credential=credential,
            nonce=nonce,
            signature=signature,
            method=request.method,
            uri=request.raw_path,
            body=body,
        )
        if not ok:
            raise _Reject(401, "E000004", "Invalid Signature.")

    async def _stats_endpoint(self, _request: web.Request) -> web.Response:
        return web.json_response(ok_envelope(self.stats))

    async def _reset_endpoint(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response(ok_envelope({"reset": True}))

    # --- customers --------------------------------------------------------------------------

    def _customer_view(self, customer: dict[str, Any], request: web.Request) -> dict[str, Any]:
        view = {key: customer.get(key) for key in _CUSTOMER_KEYS}
        default = customer.get("default_payment_token")
        token = self.state.tokens.get(default) if default else None
        view["default_payment_token"] = self._token_view(token, request) if token else None
        return view

    def _customer_or_404(self, uuid: str) -> dict[str, Any]:
        customer = self.state.customers.get(uuid)
        if customer is None:
            raise _Reject(404, 404, f"customer {uuid} not found")
        return customer

    def _check_customer_fields(
        self, fields: dict[str, Any], prefix: str, *, full: bool, uuid: str | None
    ) -> None:
        for key, max_len in _CUSTOMER_FIELDS:
            _text(fields, key, prefix, required=full and key in {"name", "phone"}, max_len=max_len)
        method = fields.get("default_payment_method")
        if method and method not in DEFAULT_PAYMENT_METHODS:
            raise _bad(
                f"{prefix}default_payment_method must be one of: "
                + ", ".join(sorted(DEFAULT_PAYMENT_METHODS))
            )
        token = fields.get("default_payment_token")
        if token and (
            uuid is None or self.state.tokens.get(token, {}).get("customer_uuid") != uuid
        ):
            raise _bad(f"{prefix}default_payment_token is not a token of this customer")

    async def _upsert(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        fields = body.get("customer")
        if not isinstance(fields, dict):
            raise _bad("customer is required")
        ref = _text(fields, "reference_number", "customer.", required=True)
        # No await from here to the save: one event loop, so concurrent upserts of one
        # reference_number cannot both miss the lookup and create two customers.
        uuid = self.state.by_ref.get(ref)
        self._check_customer_fields(fields, "customer.", full=True, uuid=uuid)
        current = self.state.customers.get(uuid) if uuid else None
        customer = (
            dict(current) if current else {"uuid": str(uuidlib.uuid4()), "reference_number": ref}
        )
        for key, _ in _CUSTOMER_FIELDS:
            if key in fields:
                customer[key] = fields[key]
        self.state.save_customer(customer)
        return {"customer": self._customer_view(customer, request)}, 200

    async def _update(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        customer = dict(self._customer_or_404(request.match_info["uuid"]))
        ref = body.get("reference_number")
        if ref is not None and ref != customer["reference_number"]:
            raise _bad("reference_number cannot be changed")
        self._check_customer_fields(body, "", full=False, uuid=customer["uuid"])
        for key, _ in _CUSTOMER_FIELDS:
            # As the Put Customer page says: an empty name/email/phone leaves it unchanged.
            if body.get(key) not in (None, "") or (
                key.startswith("default_") and key in body and body[key] == ""
            ):
                customer[key] = body[key] or None
        self.state.save_customer(customer)
        return {"customer": self._customer_view(customer, request)}, 200

    async def _get_customer(self, request: web.Request, _body: Any) -> tuple[dict[str, Any], int]:
        customer = self._customer_or_404(request.match_info["uuid"])
        return {"customer": self._customer_view(customer, request)}, 200

    async def _get_by_ref(self, request: web.Request, _body: Any) -> tuple[dict[str, Any], int]:
        ref = request.match_info["ref"]
        uuid = self.state.by_ref.get(ref)
        if uuid is None:
            raise _Reject(404, 404, f"no customer with reference_number {ref!r}")
        return {"customer": self._customer_view(self.state.customers[uuid], request)}, 200

    async def _get_by_token(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        token = self.state.tokens.get(_text(body, "token", "", required=True))
        if token is None:
            raise _Reject(404, 404, "no customer has this token")
        customer = self._customer_or_404(token["customer_uuid"])
        return {"customer": self._customer_view(customer, request)}, 200

    async def _list_customers(self, request: web.Request, _body: Any) -> tuple[dict[str, Any], int]:
        try:
            limit = int(request.query.get("limit", "20"))
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            raise _bad("limit and offset must be integers") from None
        if not 1 <= limit <= 1000 or offset < 0:
            raise _bad("limit must be 1..1000 and offset >= 0")
        source = request.query.get("linked_source_type")
        if source is not None and source not in {"User", "Store"}:
            raise _bad("linked_source_type must be User or Store")
        customers = itertools.islice(self.state.customers.values(), offset, offset + limit)
        return {"customers": [self._customer_view(c, request) for c in customers]}, 200

    # --- payment tokens ---------------------------------------------------------------------

    def _token_view(self, token: dict[str, Any], request: web.Request) -> dict[str, Any]:
        view = {k: v for k, v in token.items() if k not in {"customer_uuid", "return_urls"}}
        path = token["verify_url"]
        if path and path.startswith("/"):
            # Stored as a path: the URL follows the host the client reached us by, which
            # changes with --port 0 restarts, proxies and container port mappings.
            view["verify_url"] = _base(request) + path
        customer = self.state.customers.get(token["customer_uuid"], {})
        view["default"] = customer.get("default_payment_token") == token["token"]
        return view

    def _token_or_404(self, customer_uuid: str, token: str) -> dict[str, Any]:
        record = self.state.tokens.get(token)
        if record is None or record["customer_uuid"] != customer_uuid:
            raise _Reject(404, 404, "payment token not found")
        return record

    async def _create_token(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        customer = self._customer_or_404(request.match_info["uuid"])
        card = body.get("card")
        if not isinstance(card, dict):
            raise _bad("card is required")
        number = _text(card, "number", "card.", required=True, max_len=32)
        number = number.replace(" ", "").replace("-", "")  # as printed on the card
        if not number.isdigit() or not 12 <= len(number) <= 19 or not _luhn(number):
            raise _bad("card.number is not a valid card number")
        month = _text(card, "exp_month", "card.", required=True, max_len=2)
        year = _text(card, "exp_year", "card.", required=True, max_len=4)
        if not (month.isdigit() and year.isdigit() and 1 <= int(month) <= 12):
            raise _bad("card.exp_month/exp_year are not a valid expiry")
        holder = _text(card, "holder_name", "card.", required=True)
        three_ds = card.get("3ds")
        if not isinstance(three_ds, dict):
            raise _bad("card.3ds is required")
        ok_url = _text(three_ds, "success_return_url", "card.3ds.", required=True, max_len=2048)
        fail_url = _text(three_ds, "fail_return_url", "card.3ds.", required=True, max_len=2048)
        if card.get("transaction_type") not in TRANSACTION_TYPES:
            raise _bad("card.transaction_type must be one of the TransactionTypeEnum values")
        address = card.get("billing_address") or {}
        country = address.get("country_code") if isinstance(address, dict) else None
        if country is not None and not re.fullmatch(r"[A-Z]{3}", str(country)):
            raise _bad("card.billing_address.country_code must be ISO 3166 alpha-3")
        token_id = str(uuidlib.uuid4())
        verify_uuid = str(uuidlib.uuid4())
        record: dict[str, Any] = {
            "token_type": "CreditCard",
            "token": token_id,
            "state": "pending",
            "verify_uuid": verify_uuid,
            "verify_url": None,
            "error_code": None,
            "error_msg": None,
            "credit_card": {
                "number": mask_card_number(number),  # the full number is never stored
                "exp_month": month.zfill(2),
                "exp_year": year,
                "holder_name": holder,
                "brand": _brand(number),
                "billing_currency": "HKD",
            },
            "customer_uuid": customer["uuid"],
            "return_urls": [ok_url, fail_url],
        }
        if number == FRICTIONLESS_CARD:
            record["state"] = "success"
        elif number == DECLINED_CARD:
            record.update(state="failed", error_code="E200003", error_msg="Card declined by issuer")
        else:
            record["verify_url"] = _THREE_DS_PATH.format(verify_uuid=verify_uuid)
        self.state.save_token(record)
        if record["state"] == "success":
            self._maybe_default(customer, token_id)
        return {"payment_token": self._token_view(record, request)}, 200

    def _maybe_default(self, customer: dict[str, Any], token_id: str) -> None:
        current = customer.get("default_payment_token")
        if not current or current not in self.state.tokens:
            self.state.save_customer({**customer, "default_payment_token": token_id})

    async def _check_token(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        wanted = body.get("payment_token")
        if not isinstance(wanted, dict):
            raise _bad("payment_token is required")
        token_id = _text(wanted, "token", "payment_token.", required=True)
        record = self._token_or_404(request.match_info["uuid"], token_id)
        verify_uuid = wanted.get("verify_uuid")
        if verify_uuid is not None and verify_uuid != record["verify_uuid"]:
            raise _bad("payment_token.verify_uuid does not match the token")
        return {"payment_token": self._token_view(record, request)}, 200

    async def _list_tokens(self, request: web.Request, _body: Any) -> tuple[dict[str, Any], int]:
        uuid = self._customer_or_404(request.match_info["uuid"])["uuid"]
        wanted = request.query.get("token_type")
        types = set(wanted.split(",")) if wanted else None
        if types and "Gateway" in types:
            types.add("CreditCard")
        tokens = [
            self._token_view(t, request)
            for t in map(self.state.tokens.__getitem__, self.state.customer_tokens.get(uuid, ()))
            if types is None or t["token_type"] in types
        ]
        return {"payment_tokens": tokens}, 200

    async def _delete_token(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        customer = self._customer_or_404(request.match_info["uuid"])
        token_id = _text(body, "token", "", required=True)
        self._token_or_404(customer["uuid"], token_id)
        self.state.delete_token(token_id)
        if customer.get("default_payment_token") == token_id:
            self.state.save_customer({**customer, "default_payment_token": None})
        return {"success": True}, 200

    # --- 3-D Secure pages -------------------------------------------------------------------

    def _pending_by_verify(self, verify_uuid: str) -> dict[str, Any]:
        token = self.state.by_verify.get(verify_uuid)
        if token is None:
            raise web.HTTPNotFound(text="no such 3-D Secure challenge")
        return self.state.tokens[token]

    async def _challenge_page(self, request: web.Request) -> web.Response:
        token = self._pending_by_verify(request.match_info["verify_uuid"])
        card = token["credit_card"]
        state = html.escape(token["state"])
        page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>3-D Secure (Wonder emulator)</title></head>
<body style="font-family: sans-serif; max-width: 28em; margin: 3em auto">
<h1>3-D Secure</h1>
<p>Card {html.escape(card["number"])} ({html.escape(card["brand"])}), {
            html.escape(card["holder_name"])
        }.</p>
<p>Token state: <b>{state}</b></p>
<form method="post"><input type="hidden" name="result" value="success">
<button type="submit">Approve</button></form>
<form method="post"><input type="hidden" name="result" value="failed">
<button type="submit">Decline</button></form>
</body></html>"""
        return web.Response(text=page, content_type="text/html")

    async def _challenge_answer(self, request: web.Request) -> web.Response:
        token = self._pending_by_verify(request.match_info["verify_uuid"])
        form = await request.post()
        result = form.get("result")
        if result not in {"success", "failed"}:
            raise web.HTTPBadRequest(text="result must be success or failed")
        ok_url, fail_url = token["return_urls"]
        if token["state"] == "pending":
            updated = dict(token)
            if result == "success":
                updated.update(state="success", verify_url=None)
            else:
                updated.update(
                    state="failed",
                    verify_url=None,
                    error_code="E200002",
                    error_msg="3-D Secure verification failed",
                )
            self.state.save_token(updated)
            customer = self.state.customers.get(token["customer_uuid"])
            if result == "success" and customer is not None:
                self._maybe_default(customer, token["token"])
        raise web.HTTPSeeOther(ok_url if result == "success" else fail_url)

    # --- orders and echo --------------------------------------------------------------------

    async def _create_order(self, request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        order_in = body.get("order")
        if not isinstance(order_in, dict):
            raise _bad("order is required")
        ref = _text(order_in, "reference_number", "order.", required=True)
        fee = _text(order_in, "charge_fee", "order.", required=True, max_len=32)
        currency = _text(order_in, "currency", "order.", required=True, max_len=3)
        if not re.fullmatch(r"\d+(\.\d{1,2})?", fee):
            raise _bad("order.charge_fee must be an amount like 21.00")
        customer_uuid = body.get("customer_uuid")
        if customer_uuid is not None:
            self._customer_or_404(str(customer_uuid))
        if ref in self.state.order_by_ref:
            raise _bad("order.reference_number already exists")
        number = f"{len(self.state.orders) + 1:06d}{uuidlib.uuid4().hex[:8]}"
        order = {
            **{k: v for k, v in order_in.items() if k not in {"charge_fee", "currency"}},
            "number": number,
            "reference_number": ref,
            "charge_fee": fee,
            "currency": currency,
            "customer_uuid": customer_uuid,
            "state": "invoiced",
            "correspondence_state": "unpaid",
        }
        self.state.save_order(order)
        self._notify("order.created", order)
        data: dict[str, Any] = {"order": order}
        if request.query.get("with_payment_link") == "true":
            data["payment_link"] = _base(request) + _PAY_PATH.format(number=number)
        return data, 200

    async def _get_order(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        wanted = body.get("order")
        if not isinstance(wanted, dict):
            raise _bad("order is required")
        if not wanted.get("number") and not wanted.get("reference_number"):
            raise _bad("order.number or order.reference_number is required")
        number = wanted.get("number") or self.state.order_by_ref.get(
            str(wanted.get("reference_number"))
        )
        order = self.state.orders.get(str(number))
        if order is None:
            raise _Reject(404, 404, "order not found")
        return {"order": order}, 200

    async def _pay_page(self, request: web.Request) -> web.Response:
        order = self.state.orders.get(request.match_info["number"])
        if order is None:
            raise web.HTTPNotFound(text="no such order")
        text = html.escape(f"Pay {order['charge_fee']} {order['currency']} for {order['number']}")
        page = f'<p>{text}</p><form method="post"><button type="submit">Pay</button></form>'
        return web.Response(text=page, content_type="text/html")

    # --- webhooks -----------------------------------------------------------------------------

    def _notify(self, action: str, order: dict[str, Any]) -> None:
        """Deliver ``action`` for ``order`` to its callback_url in the background, if any."""
        url = order.get("callback_url")
        if not url:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(action, str(url), order))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def wait_for_webhooks(self) -> None:
        """Wait until every webhook scheduled so far was delivered or given up on."""
        while self._background:
            await asyncio.wait(list(self._background))

    async def _deliver(self, action: str, url: str, order: dict[str, Any]) -> None:
        target = URL(url)
        uri = target.raw_path_qs
        body = json.dumps(order).encode()
        if self._webhook_session is None:
            self._webhook_session = aiohttp.ClientSession()
        for attempt, delay in enumerate((0.0, *self.webhook_retry_delays), start=1):
            await asyncio.sleep(delay)
            headers = self._webhook_signer.sign("POST", uri, body)
            headers.update({"Content-Type": "application/json", "X-Action": action})
            status: int | str
            try:
                async with self._webhook_session.post(
                    target, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=5)
                ) as resp:
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
            self.webhook_log.append(
                {"action": action, "url": url, "status": status, "attempt": attempt}
            )
            # 2xx: delivered; 4xx: the merchant refused it, not resent (older docs' rule).
            if isinstance(status, int) and status < 500:
                return

    async def _pay(self, request: web.Request) -> web.Response:
        if request.match_info["number"] not in self.state.orders:
            raise web.HTTPNotFound(text="no such order")
        await self.pay_order(request.match_info["number"])
        return web.Response(text="Paid.", content_type="text/html")

    async def pay_order(self, number: str) -> None:
        """Mark an order paid, as if its payment link was used, and send ``order.paid``."""
        order = self.state.orders[number]
        if order["correspondence_state"] != "paid":
            order = {**order, "state": "completed", "correspondence_state": "paid"}
            self.state.save_order(order)
            self._notify("order.paid", order)

    async def _echo(self, _request: web.Request, body: Any) -> tuple[dict[str, Any], int]:
        return {"message": body.get("message")}, 200


def _base(request: web.Request) -> str:
    """The scheme and host the client used to reach this server."""
    return f"{request.scheme}://{request.host}"


def _reset(request: web.Request) -> web.Response:
    """Abort the connection with a TCP RST, as a crashed proxy would."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response(status=500)
