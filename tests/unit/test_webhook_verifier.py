"""Webhook verification: authentic webhooks pass; each tampering fails with its check named."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import KeyPair, make_key_pair
from tests.independent_signing import sign_headers
from wonder_async import WebhookVerificationError
from wonder_async.webhooks import WebhookVerifier, verify_webhook

NOW = dt.datetime(2026, 11, 24, 12, 0, 0, tzinfo=dt.UTC)
URI = "/hooks/wonder?shop=1"
ORDER = {"number": "N-1", "reference_number": "o-1", "state": "completed",
         "correspondence_state": "paid", "charge_fee": "9.90", "currency": "HKD"}  # fmt: skip


def _signed(
    pair: KeyPair, body: bytes, *, app: str = "app-1", at: dt.datetime = NOW
) -> dict[str, str]:
    headers = sign_headers(app, pair.private_pem, "POST", URI, body, now=at)
    headers["X-Action"] = "order.paid"
    return headers


def _verifier(pair: KeyPair, **kw: object) -> WebhookVerifier:
    return WebhookVerifier(pair.public_pem, app_id="app-1", clock=lambda: NOW, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", ["root", "data.order"])
def test_authentic_webhook_becomes_an_event(key_pair: KeyPair, shape: str) -> None:
    """A webhook signed with Wonder's key verifies; the order is read at the root or data.order."""
    payload = ORDER if shape == "root" else {"code": 200, "data": {"order": ORDER}}
    body = json.dumps(payload).encode()
    event = _verifier(key_pair).verify(body, _signed(key_pair, body), URI)
    assert (event.action, event.state, event.correspondence_state) == (
        "order.paid", "completed", "paid",
    )  # fmt: skip
    assert event.order.number == "N-1"
    assert event.app_id == "app-1"


def test_key_as_pem_base64_or_path(key_pair: KeyPair, tmp_path: Path) -> None:
    """The webhook public key loads from PEM, base64 of the PEM, and a file path."""
    body = json.dumps(ORDER).encode()
    path = tmp_path / "wonder_webhook.pem"
    path.write_text(key_pair.public_pem)
    b64 = base64.b64encode(key_pair.public_pem.encode()).decode()
    for key in (key_pair.public_pem, b64, path, str(path)):
        event = WebhookVerifier(key, clock=lambda: NOW).verify(body, _signed(key_pair, body), URI)
        assert event.order.reference_number == "o-1"


Mutation = Callable[[bytes, dict[str, str], str], tuple[bytes, dict[str, str], str]]


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        (lambda b, h, u: (b.replace(b"9.90", b"0.01"), h, u), "signature"),
        (lambda b, h, u: (b, h, "/hooks/other?shop=1"), "signature"),
        (lambda b, h, u: (b, h, "/hooks/wonder?shop=2"), "signature"),
        (lambda b, h, u: (b, h, "/hooks/wonder"), "signature"),
        (lambda b, h, u: (b, {**h, "Nonce": "A" * 16}, u), "signature"),
        (lambda b, h, u: (b, {**h, "Signature": "not base64!"}, u), "signature"),
        (lambda b, h, u: (b, {k: v for k, v in h.items() if k != "Nonce"}, u), "headers"),
        (lambda b, h, u: (b, {**h, "Credential": "garbage"}, u), "credential"),
        (lambda b, h, u: (b, {**h, "Credential": h["Credential"].replace("RSA", "HMAC")}, u),
         "algorithm"),
        (lambda b, h, u: (b, {**h, "Credential": h["Credential"].replace("app-1", "app-2")}, u),
         "app_id"),
    ],
    ids=["body", "path", "query", "query-dropped", "nonce", "signature-garbage", "missing-header",
         "credential", "algorithm", "app-id"],
)  # fmt: skip
def test_tampering_is_refused_with_the_check_named(
    key_pair: KeyPair, mutate: Mutation, check: str
) -> None:
    """Every tampered part is refused, and the error says which check failed."""
    body = json.dumps(ORDER).encode()
    body2, headers2, uri2 = mutate(body, _signed(key_pair, body), URI)
    with pytest.raises(WebhookVerificationError) as info:
        _verifier(key_pair).verify(body2, headers2, uri2)
    assert info.value.check == check


@pytest.mark.parametrize("minutes", [11, -11, 60 * 24])
def test_stale_or_future_webhooks_are_refused(key_pair: KeyPair, minutes: int) -> None:
    """A replayed (old) or future-dated webhook is outside the freshness window."""
    body = json.dumps(ORDER).encode()
    headers = _signed(key_pair, body, at=NOW - dt.timedelta(minutes=minutes))
    with pytest.raises(WebhookVerificationError) as info:
        _verifier(key_pair).verify(body, headers, URI)
    assert info.value.check == "freshness"
    wide = _verifier(key_pair, max_age=dt.timedelta(days=2))
    assert wide.verify(body, headers, URI).order.number == "N-1"


def test_wrong_key_is_refused(key_pair: KeyPair) -> None:
    """A webhook signed by someone else's key fails the signature check."""
    body = json.dumps(ORDER).encode()
    forged = _signed(make_key_pair(), body)
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(body, forged, URI, key_pair.public_pem, max_age=dt.timedelta(days=3650))
    assert info.value.check == "signature"


def test_authentic_but_not_json_is_a_body_error(key_pair: KeyPair) -> None:
    """A correctly signed body that is not a JSON object is refused as 'body'."""
    body = b"[1, 2]"
    with pytest.raises(WebhookVerificationError) as info:
        _verifier(key_pair).verify(body, _signed(key_pair, body), URI)
    assert info.value.check == "body"


def test_headers_are_case_insensitive(key_pair: KeyPair) -> None:
    """Lower-case header names (as WSGI/ASGI frameworks give them) work."""
    body = json.dumps(ORDER).encode()
    headers = {k.lower(): v for k, v in _signed(key_pair, body).items()}
    assert _verifier(key_pair).verify(body, headers, URI).action == "order.paid"
