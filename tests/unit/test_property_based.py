"""Property-based tests: decoders, models and the webhook verifier only raise documented errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import KeyPair
from tests.independent_signing import sign_headers
from wonder_async import (
    BillingAddress,
    Card,
    Customer,
    Order,
    PaymentToken,
    ThreeDS,
    ValidationError,
    WebhookVerificationError,
    WonderError,
)
from wonder_async._converter import structure
from wonder_async._models import CustomerFields
from wonder_async._wire import decode_envelope
from wonder_async.webhooks import WebhookVerifier

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
envelope_like = st.fixed_dictionaries(
    {},
    optional={
        "code": st.one_of(st.integers(), st.text(), st.none(), st.just(200)),
        "message": json_values,
        "error_code": json_values,
        "error_message": json_values,
        "data": json_values,
    },
)
FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(status=st.integers(100, 599), body=st.binary(max_size=200))
def test_envelope_decoder_on_arbitrary_bytes(status: int, body: bytes) -> None:
    """Any status and any bytes decode to a dict or raise a WonderError, nothing else."""
    with contextlib.suppress(WonderError):
        assert isinstance(decode_envelope(status, body), dict)


@FAST
@given(status=st.integers(100, 599), doc=envelope_like | json_values)
def test_envelope_decoder_on_arbitrary_json(status: int, doc: Any) -> None:
    """Any JSON document decodes to a dict or raises a WonderError, nothing else."""
    with contextlib.suppress(WonderError):
        assert isinstance(decode_envelope(status, json.dumps(doc).encode()), dict)


@FAST
@given(value=json_values, model=st.sampled_from([Customer, PaymentToken, Order]))
def test_response_models_on_arbitrary_json(value: Any, model: type[Any]) -> None:
    """Structuring any JSON into a response model gives the model or a WonderError."""
    with contextlib.suppress(WonderError):
        assert isinstance(structure(value, model), model)


texts = st.text(max_size=300) | st.none()


@FAST
@given(number=st.text(max_size=25) | st.integers(), month=texts, year=texts, holder=texts,
       cvv=texts, country=texts, url=st.text(max_size=50))  # fmt: skip
def test_request_models_only_raise_validation_error(
    number: Any, month: Any, year: Any, holder: Any, cvv: Any, country: Any, url: str
) -> None:
    """Request models either build or raise ValidationError for any input strings."""
    for build in (
        lambda: Card(number=number, exp_month=month, exp_year=year, holder_name=holder, cvv=cvv),
        lambda: BillingAddress(country_code=country, email=cvv),
        lambda: ThreeDS(url, url),
        lambda: CustomerFields(
            name=holder,
            phone=cvv,
            reference_number=month,
            email=year,
            default_payment_method=country,
        ).validate(prefix="c.", for_upsert=True),
    ):
        with contextlib.suppress(ValidationError):
            build()


NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)


@FAST
@given(body=st.binary(max_size=100), headers=st.dictionaries(st.text(max_size=20),
       st.text(max_size=60), max_size=5), uri=st.text(max_size=40))  # fmt: skip
def test_verifier_on_arbitrary_input(
    key_pair: KeyPair, body: bytes, headers: dict[str, str], uri: str
) -> None:
    """Arbitrary body, headers and uri give an event or WebhookVerificationError only."""
    verifier = WebhookVerifier(key_pair.public, clock=lambda: NOW)
    with contextlib.suppress(WebhookVerificationError):
        verifier.verify(body, headers, uri)


@pytest.fixture(scope="module")
def signed(key_pair: KeyPair) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"number": "N-1", "state": "completed"}).encode()
    return body, sign_headers("app-1", key_pair.private_pem, "POST", "/hook?a=1", body, now=NOW)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_single_byte_mutation_verifies(
    key_pair: KeyPair, signed: tuple[bytes, dict[str, str]], data: st.DataObject
) -> None:
    """Changing any one byte of the body, the uri, the Nonce or the Credential breaks it."""
    body, headers = signed
    # The AppID is not covered by the signature (it is not in the HMAC chain), so pinning
    # app_id is what protects that part of the Credential.
    verifier = WebhookVerifier(key_pair.public, app_id="app-1", clock=lambda: NOW)
    assert verifier.verify(body, headers, "/hook?a=1").order.number == "N-1"
    target = data.draw(st.sampled_from(["body", "uri", "Nonce", "Credential"]))
    original = body if target == "body" else ("/hook?a=1" if target == "uri" else headers[target])
    raw = bytearray(original if isinstance(original, bytes) else original.encode())
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[index]))
    new_body, new_uri, new_headers = body, "/hook?a=1", dict(headers)
    if target == "body":
        new_body = bytes(raw)
    else:
        text = raw.decode("latin-1")
        if target == "uri":
            new_uri = text
        else:
            new_headers[target] = text
    with pytest.raises(WebhookVerificationError):
        verifier.verify(new_body, new_headers, new_uri)
