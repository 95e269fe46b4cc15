"""Verify the webhooks Wonder sends (wonder-api.md §2.7) and read them as typed events.

Wonder signs each webhook like an API request, with its own key: the message is recomputed
from the received ``Credential`` and ``Nonce``, method ``POST``, *your* endpoint's path with its
query string, and the raw body; the ``Signature`` must verify under the Webhook Public Key the
portal showed when the AppID was created. Verify the raw bytes before parsing any JSON::

    verifier = WebhookVerifier(WEBHOOK_PUBLIC_KEY, app_id=APP_ID)

    async def wonder_webhook(request: web.Request) -> web.Response:      # aiohttp
        try:
            event = verifier.verify(await request.read(), request.headers, request.raw_path)
        except WebhookVerificationError as exc:
            return web.Response(status=exc.answer_status)  # 400 forged, 503 stale
        ...  # event.action, event.order.number, event.correspondence_state
        return web.Response(status=200)

Checks run cheapest first (headers, credential, algorithm, AppID, then the RSA signature,
freshness and the body), and a failure names its check in
:attr:`WebhookVerificationError.check`; a webhook outside the freshness window is refused as
``freshness`` only once its signature verified (else as ``signature``), and
:attr:`WebhookVerificationError.answer_status` is then 503, so Wonder retries instead of
dropping an authentic event. Messages never quote the body or the signature.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from ._converter import structure
from ._errors import APIConnectionError, ConfigurationError, WebhookVerificationError
from ._models import Order
from ._signing import (
    ALGORITHM,
    PublicKeyInput,
    header,
    load_public_key,
    parse_credential,
    parse_request_time,
    verify_signature,
)

__all__ = ["DEFAULT_MAX_AGE", "WebhookEvent", "WebhookVerifier", "verify_webhook"]

#: Default freshness window, applied both ways (replays from the past, clocks in the future).
#: Wonder retries a webhook for 24 hours (15 times, up to 6 hours apart) and nobody knows
#: whether a retry is signed again; Wonder's own WooCommerce handler checks no time at all. So
#: the window covers the whole retry schedule plus an hour of clock slack: a retry resent with
#: its first signature is never lost. Narrow it only if you know retries are re-signed.
DEFAULT_MAX_AGE: Final = dt.timedelta(hours=25)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@attrs.frozen
class WebhookEvent:
    """An authentic webhook, read as an event.

    ``action`` is the ``X-Action`` header (``order.paid``, ...); ``state`` and
    ``correspondence_state`` come from the payload's root, its ``data`` or the order;
    ``order`` is the order (at the root or under ``data.order``); ``raw`` is the whole parsed
    payload; ``request_time`` and ``app_id`` come from the ``Credential`` header.
    """

    action: str | None
    state: str | None
    correspondence_state: str | None
    order: Order
    app_id: str
    request_time: dt.datetime
    raw: dict[str, Any] = attrs.field(repr=False)


class WebhookVerifier:
    """Verifies webhooks with Wonder's webhook public key, loaded once; safe to share.

    :param public_key: the Webhook Public Key as PEM, base64 of the PEM, bare base64 of the
        DER key, hex of the PEM (the forms Wonder's WooCommerce plugin takes), or a file path.
    :param app_id: when given, the Credential's AppID must equal it (the AppID is not part of
        the signed message, so pinning it is the only check on it).
    :param max_age: how far the Credential's time may be from now, into the past or future
        (default 25 hours: Wonder's retries run for 24 hours and may keep their first
        signature).
    :param clock: returns the current time as an aware datetime (tests inject a fixed one).
    :raises ConfigurationError: when the key cannot be loaded or ``max_age`` is not a
        non-negative timedelta.
    """

    def __init__(
        self,
        public_key: PublicKeyInput,
        *,
        app_id: str | None = None,
        max_age: dt.timedelta = DEFAULT_MAX_AGE,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        if not isinstance(max_age, dt.timedelta) or max_age < dt.timedelta(0):
            raise ConfigurationError("max_age must be a non-negative datetime.timedelta")
        self._key = load_public_key(public_key)
        self.app_id = app_id
        self.max_age = max_age
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookVerifier(app_id={self.app_id!r}, max_age={self.max_age})"

    def verify(self, body: bytes | bytearray, headers: Mapping[str, str], uri: str) -> WebhookEvent:
        """Check a webhook and return it as an event.

        :param body: the raw request body, exactly as received (before any JSON parsing).
        :param headers: the request headers, any mapping; names are matched in any case.
        :param uri: your endpoint's path plus ``?query`` as received (aiohttp
            ``request.raw_path``, Django ``request.get_full_path()``).
        :returns: the verified event.
        :raises WebhookVerificationError: naming the check that failed: ``headers``,
            ``credential``, ``algorithm``, ``app_id``, ``freshness``, ``signature`` or ``body``.
        """
        if not isinstance(body, bytes | bytearray):
            raise WebhookVerificationError("body", "pass the raw body bytes, before JSON parsing")
        credential, nonce, signature, action = _read_headers(headers)
        try:
            app_id, request_time, algorithm = parse_credential(credential)
            sent_at = parse_request_time(request_time)
        except ValueError as exc:
            raise WebhookVerificationError("credential", str(exc)) from None
        if algorithm != ALGORITHM:
            raise WebhookVerificationError("algorithm", f"expected {ALGORITHM}")
        if self.app_id is not None and app_id != self.app_id:
            raise WebhookVerificationError("app_id", "the Credential names another AppID")
        age = self._clock() - sent_at
        stale = abs(age) > self.max_age
        if not isinstance(uri, str) or not uri.startswith("/"):
            raise WebhookVerificationError("signature", "uri must be the path (and query) received")
        ok = verify_signature(
            self._key,
            credential=credential,
            nonce=nonce,
            signature=signature,
            method="POST",
            uri=uri,
            body=bytes(body),
        )
        if not ok:
            raise WebhookVerificationError("signature", "does not verify with the webhook key")
        if stale:
            # Authentic, only old (or ahead): answer_status 503 keeps Wonder retrying.
            when = "ago" if age > dt.timedelta(0) else "in the future"
            raise WebhookVerificationError(
                "freshness",
                f"signed {abs(age).total_seconds():.0f}s {when}; allowed {self.max_age}",
            )
        return _event(bytes(body), action, app_id, sent_at)


def _read_headers(headers: Mapping[str, str]) -> tuple[str, str, str, str | None]:
    """Return ``Credential``, ``Nonce``, ``Signature`` and ``X-Action`` (which may be absent)."""
    try:
        values = [header(headers, name) for name in ("Credential", "Nonce", "Signature")]
        action = header(headers, "X-Action")
    except (AttributeError, TypeError):
        raise WebhookVerificationError("headers", "headers must be a mapping of strings") from None
    credential, nonce, signature = values
    if not (
        isinstance(credential, str)
        and isinstance(nonce, str)
        and isinstance(signature, str)
        and credential
        and nonce
        and signature
    ):
        raise WebhookVerificationError("headers", "Credential, Nonce and Signature are required")
    return credential, nonce, signature, action if isinstance(action, str) else None


def _event(body: bytes, action: str | None, app_id: str, sent_at: dt.datetime) -> WebhookEvent:
    """Read an authentic body: the order at the root, under ``order`` or under ``data.order``."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise WebhookVerificationError("body", "authentic, but not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError("body", "authentic, but not a JSON object")
    data = payload.get("data")
    data = data if isinstance(data, dict) else {}
    raw_order = data.get("order") if "order" in data else payload.get("order", payload)
    if not isinstance(raw_order, dict):
        raw_order = {}
    try:
        order = structure(raw_order, Order)
    except APIConnectionError:
        raise WebhookVerificationError("body", "authentic, but the order is unreadable") from None

    def field(name: str) -> str | None:
        for source in (payload, data, raw_order):
            value = source.get(name)
            if value is not None and not isinstance(value, dict | list):
                return str(value)
        return None

    return WebhookEvent(
        action=action,
        state=field("state"),
        correspondence_state=field("correspondence_state"),
        order=order,
        app_id=app_id,
        request_time=sent_at,
        raw=payload,
    )


def verify_webhook(
    body: bytes | bytearray,
    headers: Mapping[str, str],
    uri: str,
    public_key: PublicKeyInput,
    *,
    app_id: str | None = None,
    max_age: dt.timedelta = DEFAULT_MAX_AGE,
) -> WebhookEvent:
    """Verify one webhook, as :meth:`WebhookVerifier.verify` does (loads the key every call).

    :param body: the raw request body, exactly as received.
    :param headers: the request headers, any mapping; names are matched in any case.
    :param uri: your endpoint's path plus ``?query`` as received.
    :param public_key: the Webhook Public Key, in any form :class:`WebhookVerifier` takes.
    :param app_id: when given, the Credential's AppID must equal it.
    :param max_age: how far the Credential's time may be from now, into the past or future.
    :returns: the verified event.
    :raises WebhookVerificationError: naming the check that failed.
    :raises ConfigurationError: when the key cannot be loaded.
    """
    return WebhookVerifier(public_key, app_id=app_id, max_age=max_age).verify(body, headers, uri)
