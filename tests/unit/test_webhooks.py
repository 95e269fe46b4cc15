"""Webhook verification: authentic webhooks pass; each tampering fails with its check named."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from tests.conftest import KeyPair, make_key_pair
from tests.independent_signing import sign_headers
from wonder_async import ConfigurationError, Order, WebhookVerificationError
from wonder_async.webhooks import DEFAULT_MAX_AGE, WebhookEvent, WebhookVerifier, verify_webhook

NOW = dt.datetime(2026, 11, 24, 12, 0, 0, tzinfo=dt.timezone.utc)
URI = "/hooks/wonder?shop=1&lang=en"
ORDER = {"number": "N-1", "reference_number": "o-1", "state": "completed",
         "correspondence_state": "paid", "charge_fee": "9.90", "currency": "HKD",
         "transactions": [{"uuid": "t-1", "success": True}]}  # fmt: skip


def _signed(
    pair: KeyPair,
    body: bytes,
    *,
    app: str = "app-1",
    at: dt.datetime = NOW,
    uri: str = URI,
    action: str = "order.paid",
) -> dict[str, str]:
    headers = sign_headers(app, pair.private_pem, "POST", uri, body, now=at)
    headers["X-Action"] = action
    return headers


def _verifier(pair: KeyPair, **kw: Any) -> WebhookVerifier:
    return WebhookVerifier(pair.public_pem, app_id="app-1", clock=lambda: NOW, **kw)


def _refused(verifier: WebhookVerifier, body: Any, headers: Any, uri: Any) -> str:
    with pytest.raises(WebhookVerificationError) as info:
        verifier.verify(body, headers, uri)
    return info.value.check


# --- authentic webhooks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        ORDER,
        {"code": 200, "message": "success", "data": {"order": ORDER}},
        {"state": "completed", "correspondence_state": "paid",
         "order": {k: v for k, v in ORDER.items() if "state" not in k}},
        {"data": {"state": "completed", "correspondence_state": "paid",
                  "order": {k: v for k, v in ORDER.items() if "state" not in k}}},
    ],
    ids=["order-at-root", "data.order", "states-at-root-order-key", "states-in-data"],
)  # fmt: skip
def test_authentic_webhook_becomes_a_typed_event(key_pair: KeyPair, payload: Any) -> None:
    """A webhook signed with Wonder's key verifies into an event, wherever the order sits."""
    body = json.dumps(payload).encode()
    event = _verifier(key_pair).verify(body, _signed(key_pair, body), URI)
    assert isinstance(event, WebhookEvent)
    assert (event.action, event.state, event.correspondence_state) == (
        "order.paid", "completed", "paid",
    )  # fmt: skip
    assert isinstance(event.order, Order)
    assert (event.order.number, event.order.charge_fee) == ("N-1", "9.90")
    assert [(t.uuid, t.success) for t in event.order.transactions] == [("t-1", True)]
    assert (event.app_id, event.request_time) == ("app-1", NOW)
    assert event.raw == payload


def test_event_repr_leaves_out_the_raw_payload(key_pair: KeyPair) -> None:
    """The event's repr shows the action and states, not the whole payload."""
    body = json.dumps({**ORDER, "note": "secret-ish"}).encode()
    event = _verifier(key_pair).verify(body, _signed(key_pair, body), URI)
    assert "order.paid" in repr(event)
    assert "secret-ish" not in repr(event)


def test_missing_x_action_gives_none(key_pair: KeyPair) -> None:
    """X-Action is not signed and may be absent; the event then has action None."""
    body = json.dumps(ORDER).encode()
    headers = _signed(key_pair, body)
    del headers["X-Action"]
    assert _verifier(key_pair).verify(body, headers, URI).action is None


def test_key_as_pem_base64_or_path(key_pair: KeyPair, tmp_path: Path) -> None:
    """The webhook public key loads from PEM (str or bytes), base64 of the PEM, bare base64 of
    the DER key (one line or wrapped), hex of the PEM (as Wonder's WooCommerce plugin takes
    them), and a path."""
    body = json.dumps(ORDER).encode()
    path = tmp_path / "wonder_webhook.pem"
    path.write_text(key_pair.public_pem)
    b64 = base64.b64encode(key_pair.public_pem.encode()).decode()
    der_lines = [line for line in key_pair.public_pem.splitlines() if "-----" not in line]
    bare_der = "".join(der_lines)
    hex_pem = key_pair.public_pem.encode().hex()
    keys: list[Any] = [key_pair.public_pem, key_pair.public_pem.encode(), b64, path, str(path),
                       bare_der, "\n".join(der_lines), hex_pem, hex_pem.upper()]  # fmt: skip
    for key in keys:
        event = WebhookVerifier(key, clock=lambda: NOW).verify(body, _signed(key_pair, body), URI)
        assert event.order.reference_number == "o-1"


def test_unloadable_key_or_bad_max_age_is_a_configuration_error(tmp_path: Path) -> None:
    """A key that is not a key, or a negative window, fails when the verifier is built."""
    with pytest.raises(ConfigurationError):
        WebhookVerifier(str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigurationError):
        WebhookVerifier(make_key_pair().private_pem)
    with pytest.raises(ConfigurationError):
        WebhookVerifier(make_key_pair().public_pem, max_age=dt.timedelta(minutes=-1))


@pytest.mark.parametrize(
    "wrap",
    [
        lambda h: {k.lower(): v for k, v in h.items()},
        lambda h: {k.upper(): v for k, v in h.items()},
        lambda h: CIMultiDictProxy(CIMultiDict(h)),
    ],
    ids=["lower", "upper", "aiohttp-multidict"],
)
def test_headers_are_matched_in_any_case(
    key_pair: KeyPair, wrap: Callable[[dict[str, str]], Any]
) -> None:
    """Header names match in any case and any Mapping works (WSGI/ASGI/aiohttp headers)."""
    body = json.dumps(ORDER).encode()
    headers = wrap(_signed(key_pair, body))
    assert _verifier(key_pair).verify(body, headers, URI).action == "order.paid"


def test_bytearray_body_and_empty_query_work(key_pair: KeyPair) -> None:
    """A bytearray body verifies, and a path without a query verifies as such."""
    body = json.dumps(ORDER).encode()
    headers = _signed(key_pair, body, uri="/hooks/wonder")
    assert _verifier(key_pair).verify(bytearray(body), headers, "/hooks/wonder").order.number


def test_verify_webhook_function(key_pair: KeyPair) -> None:
    """The one-off function verifies like the class, using the real clock by default."""
    body = json.dumps(ORDER).encode()
    now = dt.datetime.now(dt.timezone.utc)
    event = verify_webhook(body, _signed(key_pair, body, at=now), URI, key_pair.public_pem,
                           app_id="app-1")  # fmt: skip
    assert event.order.number == "N-1"
    assert abs(event.request_time - now) < dt.timedelta(seconds=2)
    assert dt.timedelta(hours=25) == DEFAULT_MAX_AGE


def test_sync_package_re_exports_the_same_objects() -> None:
    """wonder_sync.webhooks offers the very same verifier, event and function."""
    import wonder_async.webhooks as a
    import wonder_sync.webhooks as s

    assert (s.WebhookVerifier, s.WebhookEvent, s.verify_webhook) == (
        a.WebhookVerifier, a.WebhookEvent, a.verify_webhook,
    )  # fmt: skip


# --- refusals -----------------------------------------------------------------------------------

Mutation = Callable[[bytes, dict[str, str], str], tuple[Any, Any, Any]]


def _drop(name: str) -> Mutation:
    return lambda b, h, u: (b, {k: v for k, v in h.items() if k != name}, u)


def _credential(old: str, new: str) -> Mutation:
    return lambda b, h, u: (b, {**h, "Credential": h["Credential"].replace(old, new)}, u)


def _resign(app: str = "app-1", at: dt.datetime = NOW, uri: str = URI) -> Callable[..., Any]:
    return lambda pair, body: _signed(pair, body, app=app, at=at, uri=uri)


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        (lambda b, h, u: (b.replace(b"9.90", b"0.01"), h, u), "signature"),
        (lambda b, h, u: (b + b" ", h, u), "signature"),
        (lambda b, h, u: (b"", h, u), "signature"),
        (lambda b, h, u: (b, h, "/hooks/other?shop=1&lang=en"), "signature"),
        (lambda b, h, u: (b, h, "/hooks/wonder?shop=2&lang=en"), "signature"),
        (lambda b, h, u: (b, h, "/hooks/wonder?lang=en&shop=1"), "signature"),
        (lambda b, h, u: (b, h, "/hooks/wonder"), "signature"),
        (lambda b, h, u: (b, h, "https://shop.example" + u), "signature"),
        (lambda b, h, u: (b, {**h, "Nonce": "A" * 16}, u), "signature"),
        (lambda b, h, u: (b, {**h, "Nonce": h["Nonce"][:-1]}, u), "signature"),
        (_credential("20261124120000", "20261124120100"), "signature"),
        (lambda b, h, u: (b, {**h, "Signature": "not base64!"}, u), "signature"),
        (lambda b, h, u: (b, {**h, "Signature": base64.b64encode(b"x" * 256).decode()}, u),
         "signature"),
        (lambda b, h, u: (b, {**h, "Signature": h["Signature"][:-4]}, u), "signature"),
        (_drop("Credential"), "headers"),
        (_drop("Nonce"), "headers"),
        (_drop("Signature"), "headers"),
        (lambda b, h, u: (b, {**h, "Signature": ""}, u), "headers"),
        (lambda b, h, u: (b, {}, u), "headers"),
        (lambda b, h, u: (b, None, u), "headers"),
        (lambda b, h, u: (b, {**h, "Nonce": b"0000000000000000"}, u), "headers"),
        (lambda b, h, u: (b, {**h, "Credential": "garbage"}, u), "credential"),
        (lambda b, h, u: (b, {**h, "Credential": "app-1//Wonder-RSA-SHA256"}, u), "credential"),
        (_credential("20261124120000", "2026112412000"), "credential"),
        (_credential("20261124120000", "20261324120000"), "credential"),
        (_credential("Wonder-RSA-SHA256", "Wonder-HMAC-SHA256"), "algorithm"),
        (_credential("Wonder-RSA-SHA256", "wonder-rsa-sha256"), "algorithm"),
        (_credential("app-1", "app-2"), "app_id"),
        (lambda b, h, u: (b.decode(), h, u), "body"),
    ],
    ids=["body-value", "body-trailing-space", "body-emptied", "path", "query-value",
         "query-order", "query-dropped", "full-url", "nonce", "nonce-shortened",
         "credential-time", "signature-garbage", "signature-forged", "signature-truncated",
         "no-credential", "no-nonce", "no-signature", "empty-signature", "no-headers",
         "headers-none", "header-bytes", "credential-garbage", "credential-empty-time",
         "credential-time-13-digits", "credential-time-month-13", "algorithm-hmac",
         "algorithm-case", "app-id", "body-as-str"],
)  # fmt: skip
def test_tampering_is_refused_with_the_check_named(
    key_pair: KeyPair, mutate: Mutation, check: str
) -> None:
    """Every tampered or missing part is refused, and the error names the failed check."""
    body = json.dumps(ORDER).encode()
    body2, headers2, uri2 = mutate(body, _signed(key_pair, body), URI)
    assert _refused(_verifier(key_pair), body2, headers2, uri2) == check


@pytest.mark.parametrize(
    ("sign", "check"),
    [
        (_resign(at=NOW - dt.timedelta(minutes=10, seconds=1)), "freshness"),
        (_resign(at=NOW + dt.timedelta(minutes=10, seconds=1)), "freshness"),
        (_resign(at=NOW - dt.timedelta(days=1)), "freshness"),
        (_resign(app="app-2"), "app_id"),
        (_resign(uri="/hooks/wonder?shop=2&lang=en"), "signature"),
        (lambda pair, body: _signed(make_key_pair(), body), "signature"),
    ],
    ids=["stale", "future", "replayed-next-day", "other-app", "signed-for-other-uri", "wrong-key"],
)
def test_authentic_looking_but_wrong_webhooks_are_refused(
    key_pair: KeyPair, sign: Callable[[KeyPair, bytes], dict[str, str]], check: str
) -> None:
    """Correctly formed webhooks that are stale, future-dated, for another app or key fail."""
    body = json.dumps(ORDER).encode()
    narrow = _verifier(key_pair, max_age=dt.timedelta(minutes=10))
    assert _refused(narrow, body, sign(key_pair, body), URI) == check


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=-10), dt.timedelta(minutes=10)])
def test_freshness_window_is_inclusive_and_configurable(
    key_pair: KeyPair, offset: dt.timedelta
) -> None:
    """A webhook exactly max_age old or ahead passes; a wider max_age admits an old one."""
    body = json.dumps(ORDER).encode()
    narrow = _verifier(key_pair, max_age=dt.timedelta(minutes=10))
    assert narrow.verify(body, _signed(key_pair, body, at=NOW + offset), URI)
    old = _signed(key_pair, body, at=NOW - dt.timedelta(hours=5))
    assert _refused(narrow, body, old, URI) == "freshness"
    wide = _verifier(key_pair, max_age=dt.timedelta(hours=6))
    assert wide.verify(body, old, URI).order.number == "N-1"


def test_a_retry_with_its_first_signature_is_accepted_for_wonders_24_hours(
    key_pair: KeyPair,
) -> None:
    """Wonder retries for 24 hours and may resend the first signature: the default window
    keeps every such retry; an older one is refused as freshness with a status that lets
    Wonder retry (503), never a 4xx that drops the event."""
    body = json.dumps(ORDER).encode()
    verifier = _verifier(key_pair)
    last_retry = _signed(key_pair, body, at=NOW - dt.timedelta(hours=24))
    assert verifier.verify(body, last_retry, URI).order.number == "N-1"
    older = _signed(key_pair, body, at=NOW - dt.timedelta(hours=26))
    with pytest.raises(WebhookVerificationError) as info:
        verifier.verify(body, older, URI)
    assert (info.value.check, info.value.answer_status) == ("freshness", 503)


def test_a_stale_forgery_is_a_signature_failure_answered_400(key_pair: KeyPair) -> None:
    """Out of the window and not signed by Wonder's key: refused as forged (400), so a replay
    of garbage never earns retries."""
    body = json.dumps(ORDER).encode()
    forged = _signed(make_key_pair(), body, at=NOW - dt.timedelta(days=3))
    with pytest.raises(WebhookVerificationError) as info:
        _verifier(key_pair).verify(body, forged, URI)
    assert (info.value.check, info.value.answer_status) == ("signature", 400)


def test_without_app_id_any_app_is_accepted(key_pair: KeyPair) -> None:
    """With no AppID pinned, the AppID check is skipped (the signature still must verify)."""
    body = json.dumps(ORDER).encode()
    verifier = WebhookVerifier(key_pair.public, clock=lambda: NOW)
    assert verifier.verify(body, _signed(key_pair, body, app="other"), URI).app_id == "other"


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b"\xff\xfe{", b"[" * 100_000])
def test_authentic_but_unreadable_body_is_a_body_error(key_pair: KeyPair, body: bytes) -> None:
    """A correctly signed body that is not a JSON object is refused as 'body'."""
    assert _refused(_verifier(key_pair), body, _signed(key_pair, body), URI) == "body"


def test_error_messages_never_quote_body_or_signature(key_pair: KeyPair) -> None:
    """Refusals say what failed in a short reason, without the body or the signature."""
    body = json.dumps({**ORDER, "card": "4242424242424242"}).encode()
    headers = _signed(key_pair, body)
    cases = [
        (body + b"x", headers, URI),
        (body, {**headers, "Credential": headers["Credential"].replace("app-1", "evil")}, URI),
        (body, _signed(key_pair, body, at=NOW - dt.timedelta(hours=26)), URI),
        (body, {**headers, "Signature": headers["Signature"][::-1]}, URI),
    ]
    for case in cases:
        with pytest.raises(WebhookVerificationError) as info:
            _verifier(key_pair).verify(*case)
        text = str(info.value) + repr(info.value)
        assert "4242" not in text
        assert headers["Signature"][:12] not in text
        assert len(text) < 200
