"""Wonder-RSA-SHA256 request signing (wonder-api.md §2.5), in one place.

The signed message is an HMAC chain keyed by the nonce and the request time, over
``METHOD\\nURI[\\nBODY]``; its lowercase hex digest is signed with RSASSA-PKCS1-v1_5 and
SHA-256. The same functions verify inbound webhooks and, in the emulator, inbound requests.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final, Union

from ._errors import ConfigurationError

# cryptography loads with the first key (about 15 ms), not with `import wonder_async`.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.asymmetric.padding import AsymmetricPadding
    from cryptography.hazmat.primitives.hashes import HashAlgorithm

__all__ = [
    "ALGORITHM",
    "PrivateKeyInput",
    "PublicKeyInput",
    "Signer",
    "format_request_time",
    "load_private_key",
    "load_public_key",
    "new_nonce",
    "parse_credential",
    "parse_request_time",
    "signature_message",
    "verify_signature",
]

ALGORITHM: Final = "Wonder-RSA-SHA256"
_NONCE_ALPHABET: Final = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NONCE_LENGTH: Final = 16
_TIME_FORMAT: Final = "%Y%m%d%H%M%S"

if TYPE_CHECKING:
    PrivateKeyInput = str | bytes | os.PathLike[str] | rsa.RSAPrivateKey
    PublicKeyInput = str | bytes | os.PathLike[str] | rsa.RSAPublicKey
else:  # the same aliases, naming the key classes without importing cryptography
    PrivateKeyInput = Union[str, bytes, os.PathLike[str], "rsa.RSAPrivateKey"]
    """What ``private_key=`` accepts: PEM text or bytes (an unencrypted PKCS#1 RSA key or
    PKCS#8 key), base64 of such a PEM, a path to a PEM file
    (``str`` or ``os.PathLike``), or an already loaded ``cryptography`` ``RSAPrivateKey`` (from
    a secret store or an HSM-backed loader, say). It is loaded once per client and kept in
    memory only."""
    PublicKeyInput = Union[str, bytes, os.PathLike[str], "rsa.RSAPublicKey"]


def format_request_time(now: dt.datetime | None = None) -> str:
    """Return the UTC request time as ``yyyymmddHHMMSS``."""
    if now is None:
        return _current_request_time()
    return now.astimezone(dt.timezone.utc).strftime(_TIME_FORMAT)


# (second, text): the current second's request time, formatted once per second.
_time_cache: tuple[int, str] = (-1, "")


def _current_request_time() -> str:
    global _time_cache
    second = int(time.time())
    cached = _time_cache  # one read: threads may replace it, never tear it
    if cached[0] == second:
        return cached[1]
    text = time.strftime(_TIME_FORMAT, time.gmtime(second))
    _time_cache = (second, text)
    return text


def parse_request_time(value: str) -> dt.datetime:
    """Parse a ``yyyymmddHHMMSS`` request time as an aware UTC datetime.

    :raises ValueError: when the value is not 14 digits forming a valid time.
    """
    if len(value) != 14 or not value.isdigit():
        raise ValueError("request time must be 14 digits yyyymmddHHMMSS")
    return dt.datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=dt.timezone.utc)


# 248 = 4 * 62: random bytes below it map uniformly onto the alphabet, the rest are dropped.
_NONCE_MAP: Final = bytes.maketrans(bytes(range(248)), (_NONCE_ALPHABET * 4).encode())
_NONCE_DROP: Final = bytes(range(248, 256))


def _nonce_from(random: bytes) -> str | None:
    chars = random.translate(_NONCE_MAP, _NONCE_DROP)
    return chars[:_NONCE_LENGTH].decode() if len(chars) >= _NONCE_LENGTH else None


def _uuid4_text(random: bytes) -> str:
    """``str(uuid.uuid4())`` from 16 given random bytes (version 4, RFC 4122 variant)."""
    b = bytearray(random)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_nonce() -> str:
    """Return 16 alphanumerics drawn from a CSPRNG, fresh for every request."""
    # One os.urandom call (not one per character): every call releases and re-takes the GIL,
    # which stalls signing threads behind a busy event loop.
    while True:
        nonce = _nonce_from(os.urandom(24))
        if nonce is not None:
            return nonce


def parse_credential(credential: str) -> tuple[str, str, str]:
    """Split a ``Credential`` header into ``(app_id, request_time, algorithm)``.

    :raises ValueError: when the header does not have exactly three ``/``-separated parts.
    """
    parts = credential.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError("Credential must be APPID/REQUEST_TIME/ALGORITHM")
    return parts[0], parts[1], parts[2]


def signature_message(
    *, request_time: str, algorithm: str, nonce: str, method: str, uri: str, body: bytes
) -> str:
    """Return the 64-char lowercase hex HMAC chain that gets RSA-signed.

    ``uri`` is the path plus query string exactly as sent; ``body`` the exact bytes sent.
    """
    # hmac.digest: one-shot, in C (hmac.new builds a Python HMAC object per step).
    k1 = hmac.digest(nonce.encode(), request_time.encode(), "sha256")
    k2 = hmac.digest(k1, algorithm.encode(), "sha256")
    content = method.upper().encode() + b"\n" + uri.encode()
    if body:
        content += b"\n" + body
    return hmac.digest(k2, content, "sha256").hex()


def _read_key_bytes(key: str | bytes | os.PathLike[str], what: str) -> bytes:
    if isinstance(key, os.PathLike):
        return Path(key).read_bytes()
    data = key.encode() if isinstance(key, str) else key
    if b"-----BEGIN" in data:
        return data
    stripped = b"".join(data.split())
    decoded = _decoded_key_text(stripped) if stripped else None
    if decoded is not None:
        return decoded
    path = Path(data.decode(errors="replace").strip()).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        # Never echo the value: it might be key material with a typo in it.
        raise ConfigurationError(
            f"{what}: not a PEM block, base64 of a PEM or of a DER key, hex of a PEM, or a "
            f"readable file path ({type(exc).__name__})"
        ) from None


_HEX_DIGITS: Final = frozenset(b"0123456789abcdefABCDEF")


def _decoded_key_text(text: bytes) -> bytes | None:
    """Key material given as text without PEM lines, as Wonder's portal and WooCommerce plugin
    take it: hex of a PEM, base64 of a PEM, or bare base64 of the DER key (returned as DER
    bytes, which the loaders tell from PEM). ``None``: not one of these (maybe a path)."""
    if text.startswith((b"/", b".", b"~")):
        return None
    if len(text) % 2 == 0 and set(text) <= _HEX_DIGITS:
        decoded = bytes.fromhex(text.decode())
        if b"-----BEGIN" in decoded:
            return decoded
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if b"-----BEGIN" in decoded:
        return decoded
    # A DER key is an ASN.1 SEQUENCE (0x30) with a long-form length (0x82 for RSA sizes).
    if len(decoded) > 64 and decoded[:2] == b"\x30\x82":
        return decoded
    return None


def load_private_key(key: PrivateKeyInput) -> rsa.RSAPrivateKey:
    """Load an RSA private key from PEM text/bytes (PKCS#1 or PKCS#8) or a file path.

    :raises ConfigurationError: when the input is not an unencrypted RSA private key.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return key
    data = _read_key_bytes(key, "private_key")
    try:
        loaded = (
            serialization.load_pem_private_key(data, password=None)
            if b"-----BEGIN" in data
            else serialization.load_der_private_key(data, password=None)
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigurationError(
            "private_key: could not load an unencrypted PEM RSA private key (PKCS#1 or PKCS#8)"
        ) from None
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ConfigurationError("private_key: key is not RSA; Wonder-RSA-SHA256 needs RSA")
    return loaded


def load_public_key(key: PublicKeyInput) -> rsa.RSAPublicKey:
    """Load an RSA public key from PEM, base64 of the PEM, bare base64 of the DER key (the PEM
    body without its lines), hex of the PEM, or a file path.

    :raises ConfigurationError: when the input is not an RSA public key.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(key, rsa.RSAPublicKey):
        return key
    data = _read_key_bytes(key, "public_key")
    try:
        loaded = (
            serialization.load_pem_public_key(data)
            if b"-----BEGIN" in data
            else serialization.load_der_public_key(data)
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigurationError("public_key: could not load a PEM RSA public key") from None
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise ConfigurationError("public_key: key is not RSA")
    return loaded


def verify_signature(
    public_key: rsa.RSAPublicKey,
    *,
    credential: str,
    nonce: str,
    signature: str,
    method: str,
    uri: str,
    body: bytes,
) -> bool:
    """Return whether ``signature`` is a valid Wonder-RSA-SHA256 signature of the request."""
    try:
        _, request_time, algorithm = parse_credential(credential)
        raw = base64.b64decode(signature, validate=True)
        # Inside the try: header values decoded with surrogateescape cannot be UTF-8 encoded
        # (UnicodeEncodeError is a ValueError), and such a request is simply not authentic.
        message = signature_message(
            request_time=request_time,
            algorithm=algorithm,
            nonce=nonce,
            method=method,
            uri=uri,
            body=body,
        )
    except (ValueError, binascii.Error):
        return False
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(raw, message.encode(), *_sign_params())
    except InvalidSignature:
        return False
    return True


def _sign_params() -> tuple[AsymmetricPadding, HashAlgorithm]:
    """The stateless padding and hash objects of every signature (PKCS#1 v1.5, SHA-256)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PKCS1v15(), hashes.SHA256()


#: CSPRNG bytes one signature uses: 24 for the nonce, 16 for the ``X-Request-ID``.
RANDOM_PER_SIGNATURE: Final = 40


class Signer:
    """Holds one app's private key (as a key object only) and signs requests with it.

    ``sign`` is thread-safe and releases the GIL during the RSA operation, so it may run on
    worker threads or on the thread of a blocking caller.
    """

    __slots__ = ("_hash", "_key", "_padding", "app_id")

    def __init__(self, app_id: str, private_key: PrivateKeyInput) -> None:
        self.app_id = app_id
        self._key = load_private_key(private_key)
        # Stateless parameter objects, shared by every signature of this key.
        self._padding, self._hash = _sign_params()

    def __repr__(self) -> str:
        return f"Signer(app_id={self.app_id!r}, key=<RSA-{self._key.key_size} redacted>)"

    def sign(self, method: str, uri: str, body: bytes) -> dict[str, str]:
        """Return the ``Credential``, ``Nonce``, ``Signature`` and ``X-Request-ID`` headers."""
        # One CSPRNG read for the nonce and the request id (each read releases the GIL).
        return self.sign_random(method, uri, body, os.urandom(RANDOM_PER_SIGNATURE))

    def sign_random(self, method: str, uri: str, body: bytes, random: bytes) -> dict[str, str]:
        """:meth:`sign` with the signature's ``RANDOM_PER_SIGNATURE`` CSPRNG bytes given.

        For the signing threads, which read the CSPRNG once for many signatures: each read
        releases the GIL, and re-taking it behind a busy event loop is what a signing thread
        waits for. The bytes must come from ``os.urandom`` and serve one signature only.
        """
        request_time = _current_request_time()
        nonce = _nonce_from(random[:24]) or new_nonce()
        message = signature_message(
            request_time=request_time,
            algorithm=ALGORITHM,
            nonce=nonce,
            method=method,
            uri=uri,
            body=body,
        )
        raw = self._key.sign(message.encode(), self._padding, self._hash)
        return {
            "Credential": f"{self.app_id}/{request_time}/{ALGORITHM}",
            "Nonce": nonce,
            "Signature": base64.b64encode(raw).decode(),
            "X-Request-ID": _uuid4_text(random[24:]),
        }


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup for plain mappings."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None
