"""Verify the webhooks Wonder sends (wonder-api.md §2.7) and read them as typed events.

Wonder signs each webhook like an API request, with its own key: the message is recomputed
from the received ``Credential`` and ``Nonce``, method ``POST``, *your* endpoint's path with its
query string, and the raw body; the ``Signature`` must verify under the Webhook Public Key the
portal showed when the AppID was created. Verify the raw bytes before parsing any JSON::

    verifier = WebhookVerifier(WEBHOOK_PUBLIC_KEY, app_id=APP_ID)

    async def wonder_webhook(request: web.Request) -> web.Response:      # aiohttp
        try:
            event = verifier.verify(await request.read(), request.headers, request.raw_path)
        except WebhookVerificationError:
            return web.Response(status=400)
        ...  # event.action, event.order.number, event.correspondence_state
        return web.Response(status=200)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from ._converter import structure
from ._errors import APIConnectionError, WebhookVerificationError
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

__all__ = ["WebhookEvent", "WebhookVerifier", "verify_webhook"]

#: Default freshness window. Wonder documents 30 minutes for inbound API requests; webhooks
#: are signed when sent, so 10 minutes (as integrations use) is enough and tighter on replays.
DEFAULT_MAX_AGE: Final = dt.timedelta(minutes=10)


@attrs.frozen
class WebhookEvent:
    """A verified webhook: ``action`` is the ``X-Action`` header, e.g. ``order.paid``."""

    action: str | None
    state: str | None
    correspondence_state: str | None
    order: Order
    app_id: str
    sent_at: dt.datetime
    payload: dict[str, Any] = attrs.field(repr=False)


class WebhookVerifier:
    """Verifies webhooks with Wonder's webhook public key, loaded once.

    :param public_key: the Webhook Public Key as PEM, base64 of the PEM, or a file path.
    :param app_id: when given, the Credential's AppID must equal it.
    :param max_age: how far the Credential's time may be from now, either way.
    :param clock: returns "now" (for tests).
    :raises ConfigurationError: when the key cannot be loaded.
    """

    def __init__(
        self,
        public_key: PublicKeyInput,
        *,
        app_id: str | None = None,
        max_age: dt.timedelta = DEFAULT_MAX_AGE,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._key = load_public_key(public_key)
        self.app_id = app_id
        self.max_age = max_age
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookVerifier(app_id={self.app_id!r}, max_age={self.max_age})"

    def verify(self, body: bytes, headers: Mapping[str, str], uri: str) -> WebhookEvent:
        """Check a webhook and return it as an event.

        :param body: the raw request body, exactly as received.
        :param headers: the request headers (any case).
        :param uri: your endpoint's path plus ``?query`` as received (aiohttp
            ``request.raw_path``, Django ``request.get_full_path()``).
        :raises WebhookVerificationError: naming the check that failed: ``headers``,
            ``credential``, ``algorithm``, ``app_id``, ``freshness``, ``signature`` or ``body``.
        """
        if not isinstance(body, bytes | bytearray):
            raise WebhookVerificationError("body", "pass the raw body bytes, before JSON parsing")
        try:
            credential = header(headers, "Credential")
            nonce = header(headers, "Nonce")
            signature = header(headers, "Signature")
        except (AttributeError, TypeError):
            raise WebhookVerificationError("headers", "headers must be a mapping") from None
        if not credential or not nonce or not signature:
            raise WebhookVerificationError(
                "headers", "Credential, Nonce and Signature are required"
            )
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
        if abs(age) > self.max_age:
            raise WebhookVerificationError(
                "freshness", f"signed {age.total_seconds():.0f}s from now; allowed {self.max_age}"
            )
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
        return _event(body, header(headers, "X-Action"), app_id, sent_at)


def _event(body: bytes, action: str | None, app_id: str, sent_at: dt.datetime) -> WebhookEvent:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookVerificationError("body", "authentic, but not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError("body", "authentic, but not a JSON object")
    data = payload.get("data")
    raw_order = data.get("order") if isinstance(data, dict) else payload.get("order", payload)
    if not isinstance(raw_order, dict):
        raw_order = {}
    try:
        order = structure(raw_order, Order)
    except APIConnectionError:
        raise WebhookVerificationError("body", "authentic, but the order is unreadable") from None

    def field(name: str) -> str | None:
        value = payload.get(name, raw_order.get(name))
        return None if value is None else str(value)

    return WebhookEvent(
        action=action,
        state=field("state"),
        correspondence_state=field("correspondence_state"),
        order=order,
        app_id=app_id,
        sent_at=sent_at,
        payload=payload,
    )


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    uri: str,
    public_key: PublicKeyInput,
    *,
    app_id: str | None = None,
    max_age: dt.timedelta = DEFAULT_MAX_AGE,
) -> WebhookEvent:
    """One-off form of :meth:`WebhookVerifier.verify` (loads the key on every call).

    :raises WebhookVerificationError: naming the check that failed.
    :raises ConfigurationError: when the key cannot be loaded.
    """
    return WebhookVerifier(public_key, app_id=app_id, max_age=max_age).verify(body, headers, uri)
