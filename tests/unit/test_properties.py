"""Property-based tests: decoders, models and the webhook verifier only raise documented errors."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import re
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
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
from wonder_async.webhooks import WebhookEvent, WebhookVerifier

FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.timezone.utc)

# Text that includes what trips naive code: lone surrogates (as surrogateescape-decoded headers
# carry), non-ASCII digits ("٢", "²"), whitespace and newlines.
nasty_chars = (
    st.characters()
    | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    | st.sampled_from("0123456789²٢\n\t -/")
)
nasty_text = st.text(nasty_chars, max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


# --- (a) the envelope decoder -------------------------------------------------------------------

envelope_like = st.fixed_dictionaries(
    {},
    optional={
        "code": st.one_of(st.integers(), st.text(), st.none(), st.just(200), st.just("200")),
        "message": json_values,
        "error_code": json_values,
        "error_message": json_values,
        "data": json_values,
    },
)


@FAST
@given(status=st.integers(100, 599), body=st.binary(max_size=200))
@example(status=200, body=b"[" * 100_000)
@example(status=502, body=b'{"a":' * 50_000)
def test_envelope_decoder_on_arbitrary_bytes(status: int, body: bytes) -> None:
    """Any status and any bytes (even absurdly nested JSON) decode to a dict or a WonderError."""
    with contextlib.suppress(WonderError):
        assert isinstance(decode_envelope(status, body), dict)


@FAST
@given(status=st.integers(100, 599), doc=envelope_like | json_values)
def test_envelope_decoder_on_arbitrary_json(status: int, doc: Any) -> None:
    """Any JSON document decodes to a dict or raises a WonderError, nothing else."""
    with contextlib.suppress(WonderError):
        assert isinstance(decode_envelope(status, json.dumps(doc).encode()), dict)


# --- (b) response models ----------------------------------------------------------------------


def _model_shaped(model: type[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts using the model's own field names (and a nested model's), with any values."""
    names = [a.name for a in attrs.fields(model) if a.name != "extra"]
    return st.dictionaries(st.sampled_from(names) | st.text(max_size=5), json_values, max_size=6)


models = st.sampled_from([Customer, PaymentToken, Order])


@FAST
@given(data=st.data(), model=models)
def test_response_models_on_arbitrary_json(data: st.DataObject, model: type[Any]) -> None:
    """Structuring any JSON (model-shaped or not) gives the model or a WonderError only."""
    value = data.draw(json_values | _model_shaped(model) | _model_shaped(PaymentToken))
    with contextlib.suppress(WonderError):
        assert isinstance(structure(value, model), model)


# --- (c) request models -----------------------------------------------------------------------

texts = nasty_text | st.none()


@FAST
@given(number=st.text(nasty_chars, max_size=25) | st.integers(), month=texts, year=texts,
       holder=texts, cvv=texts, country=texts, url=nasty_text)  # fmt: skip
@example(number="4242424242424242", month="²", year="2030", holder="A", cvv=None, country=None,
         url="")  # fmt: skip
@example(number="4242424242424242", month="12", year="٢٠٣٠", holder="A", cvv="²²²",
         country="HKG\n", url="")  # fmt: skip
def test_request_models_only_raise_validation_error(
    number: Any, month: Any, year: Any, holder: Any, cvv: Any, country: Any, url: str
) -> None:
    """Request models either build with wire-safe ASCII values or raise ValidationError."""
    with contextlib.suppress(ValidationError):
        card = Card(number=number, exp_month=month, exp_year=year, holder_name=holder, cvv=cvv)
        assert card.exp_month.isascii()
        assert 1 <= int(card.exp_month) <= 12
        assert card.exp_year.isascii()
        assert card.exp_year.isdigit()
        assert len(card.exp_year) == 4
        assert card.cvv is None or (card.cvv.isascii() and card.cvv.isdigit())
    with contextlib.suppress(ValidationError):
        address = BillingAddress(country_code=country, email=cvv)
        code = address.country_code
        assert code is None or (len(code) == 3 and code.isascii() and code.isupper())
        assert address.email is None or address.email == address.email.strip()
    with contextlib.suppress(ValidationError):
        ThreeDS(url, url)
    with contextlib.suppress(ValidationError):
        CustomerFields(name=holder, phone=cvv, reference_number=month, email=year,
                       default_payment_method=country,
                       dial_code=cvv).validate(prefix="c.", for_upsert=True)  # fmt: skip


_CUSTOMER_FIELDS = (
    "reference_number",
    "name",
    "phone",
    "email",
    "dial_code",
    "company_name",
    "default_payment_method",
    "default_payment_token",
)
_customer_values = (
    st.none()
    | st.just("")
    | st.text(max_size=70)
    | nasty_text
    | st.integers()
    | st.sampled_from(
        [
            "Credit Card",
            "FPS",
            "a@b.co",
            "a@b.co\n",
            "x" * 64,
            "x" * 65,
            "x" * 255,
            "x" * 256,
            "Tai\x00Man",
            "Tai\tMan",
            "Tai\x85",
            "\ud800",
            "Tai Man",
        ]
    )
)


def _first_broken_customer_rule(fields: dict[str, Any], for_upsert: bool) -> str | None:
    """The §3.1 rules, written out independently of the SDK's code."""
    methods = {"Credit Card", "Alipay", "Wechat Pay", "Google Pay", "FPS", "Octopus Business",
               "Union Pay", "Payment Token"}  # fmt: skip
    limits = {"dial_code": 6, "default_payment_token": 64}
    for name in _CUSTOMER_FIELDS:
        value = fields[name]
        if name == "default_payment_method":
            ok = value is None or value in methods
        elif value is None or value == "":
            ok = not (for_upsert and name in ("reference_number", "name", "phone"))
        else:
            ok = isinstance(value, str) and len(value) <= limits.get(name, 255)
            # No lone surrogates (not UTF-8) and no NUL or control characters.
            ok = ok and re.search("[\ud800-\udfff\x00-\x1f\x7f-\x9f]", value) is None
            if ok and name == "email":
                ok = re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) is not None
        if not ok:
            return name
    return None


@FAST
@given(
    fields=st.fixed_dictionaries(dict.fromkeys(_CUSTOMER_FIELDS, _customer_values)),
    for_upsert=st.booleans(),
)
def test_customer_fields_pass_exactly_when_every_rule_holds(
    fields: dict[str, Any], for_upsert: bool
) -> None:
    """CustomerFields.validate accepts exactly the inputs that satisfy the §3.1 rules, and
    names the first field (in the documented order) that does not."""
    broken = _first_broken_customer_rule(fields, for_upsert)
    if broken is None:
        CustomerFields(**fields).validate(prefix="c.", for_upsert=for_upsert)
    else:
        with pytest.raises(ValidationError) as info:
            CustomerFields(**fields).validate(prefix="c.", for_upsert=for_upsert)
        assert info.value.field == f"c.{broken}"


# --- (d) the webhook verifier -------------------------------------------------------------------

header_names = st.sampled_from(["Credential", "nonce", "SIGNATURE", "X-Action"]) | nasty_text
credentials = st.builds(
    "{}/{}/{}".format,
    nasty_text,
    st.sampled_from(["20261124120000", "20261124115500", "2026112412000", "99991399999999"])
    | nasty_text,
    st.sampled_from(["Wonder-RSA-SHA256"]) | nasty_text,
)
signatures = st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()) | nasty_text


@FAST
@given(
    body=st.binary(max_size=100),
    headers=st.dictionaries(header_names, nasty_text, max_size=5),
    credential=credentials | nasty_text,
    nonce=nasty_text,
    signature=signatures,
    uri=nasty_text.map("/".__add__) | nasty_text,
)
@example(body=b"{}", headers={}, credential="app/20261124120000/Wonder-RSA-SHA256",
         nonce="\udcff" * 16, signature="AAAA", uri="/hook")  # fmt: skip
@example(body=b"{}", headers={}, credential="app/20261124120000/Wonder-RSA-SHA256",
         nonce="0" * 16, signature="AAAA", uri="/hook\udcff")  # fmt: skip
def test_verifier_on_arbitrary_input(
    key_pair: KeyPair,
    body: bytes,
    headers: dict[str, str],
    credential: str,
    nonce: str,
    signature: str,
    uri: str,
) -> None:
    """Arbitrary body, headers and uri (lone surrogates too) give WebhookVerificationError only."""
    verifier = WebhookVerifier(key_pair.public, clock=lambda: NOW)
    full = {"Credential": credential, "Nonce": nonce, "Signature": signature, **headers}
    for candidate in (headers, full):
        with pytest.raises(WebhookVerificationError) as info:
            verifier.verify(body, candidate, uri)
        assert info.value.check in {
            "headers", "credential", "algorithm", "freshness", "signature", "body",
        }  # fmt: skip


@pytest.fixture(scope="module")
def signed(key_pair: KeyPair) -> tuple[bytes, dict[str, str]]:
    """A validly signed webhook body and its headers, for the mutation property."""
    body = json.dumps({"number": "N-1", "state": "completed"}).encode()
    return body, sign_headers("app-1", key_pair.private_pem, "POST", "/hook?a=1", body, now=NOW)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_no_single_byte_mutation_verifies(
    key_pair: KeyPair, signed: tuple[bytes, dict[str, str]], data: st.DataObject
) -> None:
    """Changing any one byte of the body, the uri, the Nonce or the Credential breaks it."""
    body, headers = signed
    # The AppID is not covered by the signature (it is not in the HMAC chain), so pinning
    # app_id is what protects that part of the Credential.
    verifier = WebhookVerifier(key_pair.public, app_id="app-1", clock=lambda: NOW)
    assert isinstance(verifier.verify(body, headers, "/hook?a=1"), WebhookEvent)
    target = data.draw(st.sampled_from(["body", "uri", "Nonce", "Credential"]))
    original = body if target == "body" else ("/hook?a=1" if target == "uri" else headers[target])
    raw = bytearray(original if isinstance(original, bytes) else original.encode())
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[index]))
    new_body, new_uri, new_headers = body, "/hook?a=1", dict(headers)
    if target == "body":
        new_body = bytes(raw)
    else:
        # surrogateescape: how aiohttp and ASGI servers hand over bytes that are not UTF-8.
        text = raw.decode("utf-8", "surrogateescape")
        if target == "uri":
            new_uri = text
        else:
            new_headers[target] = text
    with pytest.raises(WebhookVerificationError):
        verifier.verify(new_body, new_headers, new_uri)
