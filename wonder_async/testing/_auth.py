"""The emulator's keys and its check of every signed request.

A request must carry a well-formed ``Credential``, a 16-character ``Nonce`` and a
``Signature`` that verifies with the registered public key of its AppID over the method, the
path with query and the exact body, sent within the clock window (30 minutes). With
``reject_replays`` a (Nonce, Signature) pair seen before within the window is refused too.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import OrderedDict
from functools import cache, lru_cache
from pathlib import Path
from typing import Final

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .._signing import (
    ALGORITHM,
    load_public_key,
    parse_credential,
    parse_request_time,
    verify_signature,
)
from ._common import EmulatorBase, Reject

__all__ = ["MAX_SKEW", "AuthMixin", "ReplayGuard", "generate_key_pair", "public_pem"]

MAX_SKEW: Final = dt.timedelta(minutes=30)
_NONCE = re.compile(r"^[0-9A-Za-z]{16}$")


@cache
def generate_key_pair(purpose: str = "app") -> tuple[str, str]:
    """Return ``(private_pem, public_pem)`` of an RSA-2048 pair, made once per process.

    :param purpose: one pair per purpose (``app`` for request signing, ``webhook`` for
        the gateway's own webhook key).
    :returns: the private and the public key as PEM text.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


@lru_cache(maxsize=256)
def _request_epoch(request_time: str) -> float:
    """POSIX time of a Credential's request time; cached because at load most share a second.

    :raises ValueError: when it is not ``yyyymmddHHMMSS``.
    """
    return parse_request_time(request_time).timestamp()


def public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _refused(status: int, code: str, message: str) -> Reject:
    """An authentication failure: HTTP 401/403 under every ``errors`` reading (the request is
    not the merchant's, so there is no business answer to give), its code also in
    ``error_code``. ``E000002`` is documented; ``E000003``-``E000006`` are the emulator's."""
    return Reject(status, code, message, error_code=code, auth=True)


class ReplayGuard:
    """Remembers each (Nonce, Signature) seen within the clock window, to refuse replays.

    Whether the gateway refuses a replayed request is not documented; the emulator does it
    only when asked (``Emulator(reject_replays=True)``, ``--reject-replays``). Entries expire
    ``window`` seconds after their Credential time, when the clock check refuses them anyway.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def first_use(self, nonce: str, signature: str, sent_at: float) -> bool:
        """Record this request; ``False`` when the same one was seen and has not expired."""
        now = time.time()
        while self._seen:
            key, expires = next(iter(self._seen.items()))
            if expires > now:
                break
            del self._seen[key]
        key = (nonce, signature)
        if key in self._seen:
            return False
        # Kept until the latest moment the clock check could still accept the request.
        self._seen[key] = max(sent_at + self.window, now) + 1
        return True

    def clear(self) -> None:
        """Forget every request seen (``Emulator.reset``)."""
        self._seen.clear()


class AuthMixin(EmulatorBase):
    """The registered apps and the signature check of :class:`~._server.Emulator`."""

    skew: dt.timedelta
    replays: ReplayGuard | None
    _keys: dict[str, rsa.RSAPublicKey]

    def register_app(self, app_id: str, public_key: str | bytes | Path) -> None:
        """Accept requests signed for ``app_id`` with the private half of ``public_key``.

        :param app_id: the AppID clients put in their ``Credential`` header.
        :param public_key: the app's public key: PEM text or bytes, base64 of the PEM, or a path.
        """
        key = load_public_key(public_key)
        self._keys[app_id] = key
        self.state.save_app(app_id, public_pem(key))

    def _authenticate(self, request: web.Request, body: bytes) -> None:
        headers = request.headers
        credential = headers.get("Credential")
        nonce = headers.get("Nonce")
        signature = headers.get("Signature")
        if not credential or not nonce or not signature or not _NONCE.match(nonce):
            raise _refused(401, "E000002", "Invalid Credential Format.")
        try:
            app_id, request_time, algorithm = parse_credential(credential)
            sent_at = _request_epoch(request_time)
        except ValueError:
            raise _refused(401, "E000002", "Invalid Credential Format.") from None
        if algorithm != ALGORITHM:
            raise _refused(401, "E000002", "Invalid Credential Format.")
        key = self._keys.get(app_id)
        if key is None:
            raise _refused(403, "E000003", "Unknown AppID.")
        if abs(time.time() - sent_at) > self.skew.total_seconds():
            raise _refused(401, "E000005", "Request time differs from server time by > 30 min.")
        ok = verify_signature(
            key,
            credential=credential,
            nonce=nonce,
            signature=signature,
            method=request.method,
            uri=request.raw_path,
            body=body,
        )
        if not ok:
            raise _refused(401, "E000004", "Invalid Signature.")
        if self.replays is not None and not self.replays.first_use(nonce, signature, sent_at):
            raise _refused(401, "E000006", "Replayed request: this Nonce and Signature were used.")
