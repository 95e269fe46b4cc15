"""The envelope decoder maps both generations to data or to the error tree."""

from __future__ import annotations

import json

import pytest

from wonder_async import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from wonder_async._retry import parse_retry_after
from wonder_async._wire import decode_envelope


def test_success_new_generation() -> None:
    """code 200 with data returns data."""
    body = json.dumps({"code": 200, "message": "success", "data": {"a": 1}}).encode()
    assert decode_envelope(200, body) == {"a": 1}


def test_success_old_generation() -> None:
    """The older envelope without code but with empty error_code is a success."""
    body = json.dumps({"error_code": "", "error_message": "", "data": {"a": 2}}).encode()
    assert decode_envelope(200, body) == {"a": 2}


@pytest.mark.parametrize(
    ("status", "doc", "cls", "code"),
    [
        (401, {"code": "E000002", "message": "Invalid Credential Format."}, AuthenticationError,
         "E000002"),
        (400, {"error_code": "E1", "error_message": "customer.name is required"}, BadRequestError,
         "E1"),
        (404, {"code": 404, "message": "not found"}, NotFoundError, "404"),
        (429, {"code": 429, "message": "slow down"}, RateLimitError, "429"),
        (503, {"code": 503, "message": "busy"}, ServerError, "503"),
        (200, {"code": 400, "message": "bad"}, BadRequestError, "400"),
    ],
)  # fmt: skip
def test_errors(status: int, doc: dict[str, object], cls: type[Exception], code: str) -> None:
    """Failures carry HTTP status, Wonder code, message and request id."""
    with pytest.raises(cls) as info:
        decode_envelope(status, json.dumps(doc).encode(), request_id="rid-1")
    err = info.value
    assert err.code == code  # type: ignore[attr-defined]
    assert err.request_id == "rid-1"  # type: ignore[attr-defined]
    assert "rid-1" in str(err)


@pytest.mark.parametrize("body", [b'{"code":200,"da', b"<html>oops</html>", b""])
def test_garbled_success_is_a_connection_error(body: bytes) -> None:
    """A 200 whose body is truncated or not JSON is never a silent success."""
    with pytest.raises(APIConnectionError):
        decode_envelope(200, body)


def test_retry_after_forms() -> None:
    """Retry-After is read as seconds or as an HTTP-date, clamped, garbage ignored."""
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("100000") == 300.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    when = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")
    assert when == 0.0


@pytest.mark.parametrize(
    ("status", "doc", "cls", "code"),
    [
        # Wonder's clients see refusals as HTTP 200 with a non-200 code (wonder-clients.md 11.2).
        (200, {"code": 100701, "error_code": "100701",
               "message": "Refunds of the same amount are not allowed within five minutes"},
         BadRequestError, "100701"),
        (200, {"code": 400, "error_code": "EO100102", "message": "invalid currency"},
         BadRequestError, "EO100102"),
        (200, {"code": 404, "error_code": "404", "message": "order not found"}, NotFoundError,
         "404"),
        (200, {"code": 400, "error_message": "the order does not exist"}, NotFoundError, "400"),
        (400, {"code": 400, "message": "order not found"}, NotFoundError, "400"),
        (200, {"code": "E000002", "message": "Invalid Credential Format."}, AuthenticationError,
         "E000002"),
        (401, {"code": "E000003", "message": "app not found"}, AuthenticationError, "E000003"),
        (200, {"code": 503, "message": "busy"}, ServerError, "503"),
        (200, {"error": "payment token is expired"}, BadRequestError, None),
    ],
)  # fmt: skip
def test_business_refusals_in_any_envelope(
    status: int, doc: dict[str, object], cls: type[Exception], code: str | None
) -> None:
    """A refusal maps to its class whatever the HTTP status; the text comes from message,
    error_message or error."""
    with pytest.raises(cls) as info:
        decode_envelope(status, json.dumps(doc).encode())
    assert type(info.value) is cls
    assert info.value.code == code  # type: ignore[attr-defined]
    assert str(info.value.message)  # type: ignore[attr-defined]
    assert info.value.message != "request failed"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "message",
    [
        "refund.amount: must be above 0",
        "transaction is not refundable",
        "order.reference_number: already exists",
        "found a duplicate transaction",
    ],
)
def test_unrelated_refusals_are_never_read_as_not_found(message: str) -> None:
    """Only a 404 code or a "not found"/"does not exist" text says "not there": an exactly-once
    look-up decides "nothing happened" from it."""
    doc = {"code": 400, "error_code": "E300051", "message": message}
    with pytest.raises(BadRequestError) as info:
        decode_envelope(200, json.dumps(doc).encode())
    assert not isinstance(info.value, NotFoundError)


def test_success_with_an_empty_error_key_is_still_success() -> None:
    """``error: null`` / ``""`` next to code 200 is no refusal."""
    body = json.dumps({"code": 200, "error": "", "data": {"a": 3}}).encode()
    assert decode_envelope(200, body) == {"a": 3}
    body = json.dumps({"error": None, "data": {"a": 4}}).encode()
    assert decode_envelope(200, body) == {"a": 4}
