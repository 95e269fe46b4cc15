"""Shared fixtures: RSA key pairs made once per session."""

from __future__ import annotations

import attrs
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@attrs.frozen
class KeyPair:
    private: rsa.RSAPrivateKey
    private_pem: str
    public: rsa.RSAPublicKey
    public_pem: str


def make_key_pair(bits: int = 2048, fmt: str = "pkcs8") -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_format = (
        serialization.PrivateFormat.PKCS8
        if fmt == "pkcs8"
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(key, private_pem, key.public_key(), public_pem)


@pytest.fixture(scope="session")
def key_pair() -> KeyPair:
    """One RSA-2048 PKCS#8 key pair for the whole session."""
    return make_key_pair()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """aiohttp is asyncio-only, so async tests run on asyncio alone."""
    return "asyncio"
