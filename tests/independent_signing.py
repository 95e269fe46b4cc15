"""An independent Wonder-RSA-SHA256 implementation, written from wonder-api.md §2.5 only.

Tests use it to check what the SDK and the emulator do; it deliberately imports nothing
from ``wonder_async``.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import secrets
import string
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def message_hex(credential: str, nonce: str, method: str, uri: str, body: bytes) -> str:
    """Return the lowercase hex HMAC chain of the request."""
    _app_id, request_time, algorithm = credential.split("/")
    k1 = hmac.digest(nonce.encode("utf-8"), request_time.encode("utf-8"), "sha256")
    k2 = hmac.digest(k1, algorithm.encode("utf-8"), "sha256")
    content = method.upper() + "\n" + uri
    text = content.encode("utf-8") + (b"\n" + body if len(body) > 0 else b"")
    return hmac.new(k2, text, hashlib.sha256).hexdigest()


def verify(
    public_key: rsa.RSAPublicKey,
    headers: dict[str, str],
    method: str,
    uri: str,
    body: bytes,
) -> bool:
    """Return whether the request's Signature header verifies under ``public_key``."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg = message_hex(lower["credential"], lower["nonce"], method, uri, body)
    try:
        public_key.verify(
            base64.b64decode(lower["signature"]), msg.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True


@functools.lru_cache(maxsize=8)
def _load(pem: bytes) -> rsa.RSAPrivateKey:
    # Loading checks the key's consistency (tens of ms); tests sign thousands of requests.
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def sign_headers(
    app_id: str,
    private_key_pem: str | bytes,
    method: str,
    uri: str,
    body: bytes,
    *,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """Build signed request headers the way any client written from the docs would."""
    key = _load(private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem)
    when = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%d%H%M%S")
    nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    credential = f"{app_id}/{when}/Wonder-RSA-SHA256"
    msg = message_hex(credential, nonce, method, uri, body)
    sig = key.sign(msg.encode(), padding.PKCS1v15(), hashes.SHA256())
    return {
        "Content-Type": "application/json",
        "Credential": credential,
        "Nonce": nonce,
        "Signature": base64.b64encode(sig).decode(),
        "X-Request-ID": str(uuid.uuid4()),
    }
