"""Request signing: the published vectors, independent verification, key loading."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import KeyPair, make_key_pair
from tests.independent_signing import message_hex, verify
from wonder_async import ConfigurationError
from wonder_async._signing import (
    Signer,
    load_private_key,
    load_public_key,
    new_nonce,
    signature_message,
)

CREDENTIAL = "d900da8b-6e16-4a85-8a66-05d29ac53f24/20240501120123/Wonder-RSA-SHA256"


def test_vector_a_post_with_body() -> None:
    """Vector A (POST echo with body) gives the documented message."""
    msg = signature_message(
        request_time="20240501120123",
        algorithm="Wonder-RSA-SHA256",
        nonce="0000000000000000",
        method="POST",
        uri="/svc/payment/api/v1/openapi/echo",
        body=b'{"message":"Hello,Wonder!"}',
    )
    assert msg == "99720de580af351982c66f02520fc16cdccf5599e6c96f9f6f7e49634187fcee"


def test_vector_b_get_without_body() -> None:
    """Vector B (GET, no body) gives the documented message."""
    msg = signature_message(
        request_time="20240501120123",
        algorithm="Wonder-RSA-SHA256",
        nonce="0000000000000000",
        method="get",
        uri="/svc/payment/api/v1/openapi/customers/1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed/payment_tokens",
        body=b"",
    )
    assert msg == "e692cfbf688c53dc9b0c83e1d920288ef34b677c1bc0e934667a3c930b78c6e8"


def test_signer_headers_verify_independently(key_pair: KeyPair) -> None:
    """Headers from Signer verify under an independent implementation, query string included."""
    signer = Signer("app-1", key_pair.private_pem)
    uri = "/svc/payment/api/v1/openapi/orders?with_payment_link=true"
    body = b'{"order":{"reference_number":"o-1"}}'
    headers = signer.sign("POST", uri, body)
    assert verify(key_pair.public, headers, "POST", uri, body)
    assert not verify(key_pair.public, headers, "POST", uri.split("?")[0], body)
    assert not verify(key_pair.public, headers, "POST", uri, body + b" ")
    app, when, algo = headers["Credential"].split("/")
    assert (app, algo) == ("app-1", "Wonder-RSA-SHA256")
    assert re.fullmatch(r"20\d{12}", when)
    assert re.fullmatch(r"[0-9A-Za-z]{16}", headers["Nonce"])
    assert len(base64.b64decode(headers["Signature"])) == 256
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["X-Request-ID"])


def test_signature_matches_openssl_cli(key_pair: KeyPair, tmp_path: Path) -> None:
    """The RSA step is byte-identical to `openssl dgst -sha256 -sign` (PKCS#1 v1.5)."""
    key_file = tmp_path / "k.pem"
    key_file.write_text(key_pair.private_pem)
    signer = Signer("app-1", key_file)
    headers = signer.sign("GET", "/x?a=1", b"")
    msg = message_hex(headers["Credential"], headers["Nonce"], "GET", "/x?a=1", b"")
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(key_file)],
        input=msg.encode(),
        capture_output=True,
        check=True,
    ).stdout
    assert base64.b64encode(out).decode() == headers["Signature"]


def test_nonces_are_fresh() -> None:
    """Every nonce is 16 alphanumerics and they do not repeat."""
    nonces = {new_nonce() for _ in range(2000)}
    assert len(nonces) == 2000
    assert all(re.fullmatch(r"[0-9A-Za-z]{16}", n) for n in nonces)


@pytest.mark.parametrize(("bits", "fmt"), [(2048, "pkcs1"), (4096, "pkcs8")])
def test_key_formats_load_from_text_bytes_and_path(bits: int, fmt: str, tmp_path: Path) -> None:
    """PKCS#1 and PKCS#8 keys of 2048/4096 bits load from str, bytes and a path."""
    pair = make_key_pair(bits, fmt)
    path = tmp_path / "key.pem"
    path.write_text(pair.private_pem)
    for source in (pair.private_pem, pair.private_pem.encode(), path, str(path)):
        key = load_private_key(source)
        assert key.key_size == bits
    headers = Signer("a", pair.private_pem).sign("GET", "/p", b"")
    assert verify(pair.public, headers, "GET", "/p", b"")


def test_public_key_loads_from_base64_of_pem(key_pair: KeyPair) -> None:
    """A public key given as base64 of its PEM (as the portal shows it) loads."""
    encoded = base64.b64encode(key_pair.public_pem.encode()).decode()
    assert load_public_key(encoded).public_numbers() == key_pair.public.public_numbers()


def test_bad_key_error_does_not_echo_the_input(key_pair: KeyPair) -> None:
    """A broken key gives a ConfigurationError that does not contain the key material."""
    broken = key_pair.private_pem.replace("A", "B", 40)
    with pytest.raises(ConfigurationError) as info:
        load_private_key(broken)
    text = str(info.value)
    assert "private_key" in text
    assert broken[40:80] not in text
    with pytest.raises(ConfigurationError, match="not a PEM"):
        load_private_key("/nonexistent/key.pem")


def test_signer_repr_hides_key(key_pair: KeyPair) -> None:
    """The signer's repr names the app and key size, never key material."""
    text = repr(Signer("app-9", key_pair.private_pem))
    assert "app-9" in text
    assert "redacted" in text
    assert "BEGIN" not in text
