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
