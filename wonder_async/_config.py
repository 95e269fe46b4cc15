"""Client configuration: defaults, ``WONDER_*`` environment variables, and their checks.

An argument given to ``WonderClient`` wins over its environment variable, which wins over the
default; every value is checked here, so a bad one fails at construction with a
:class:`ConfigurationError` naming it.
"""

from __future__ import annotations

import os
from typing import Final

from ._errors import ConfigurationError
from ._signing import PrivateKeyInput
from ._wire import ENVIRONMENTS

__all__ = [
    "DEFAULT_ATTEMPT_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_TIMEOUT",
    "check_positive",
    "from_env",
    "resolve_base_url",
    "resolve_credentials",
    "resolve_max_response_bytes",
]

DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_ATTEMPT_TIMEOUT: Final = 20.0
DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_MAX_RETRIES: Final = 3
DEFAULT_POOL_SIZE: Final = 100
#: 16 MiB: the largest page the emulator sends (1000 orders with four transactions each and
#: every text field at its longest) is 3.5 MB, a 1000-customer page with tokens 1.2 MB.
DEFAULT_MAX_RESPONSE_BYTES: Final = 16 * 1024 * 1024


def from_env(name: str) -> str | None:
    """The value of environment variable ``name``; ``None`` when it is unset or empty."""
    value = os.environ.get(name)
    return value if value else None


def resolve_base_url(environment: str | None, base_url: str | None) -> tuple[str, str]:
    """The environment's name and the base URL requests go to, checked.

    :raises ConfigurationError: for an unknown environment or a URL that is not http(s)
        (https only in production).
    """
    env = environment or from_env("WONDER_ENVIRONMENT") or "sandbox"
    if env not in ENVIRONMENTS:
        raise ConfigurationError(
            f"environment: must be one of {', '.join(ENVIRONMENTS)} (got {env!r})"
        )
    url = (base_url or from_env("WONDER_BASE_URL") or ENVIRONMENTS[env]).rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise ConfigurationError(f"base_url: must start with https:// or http:// (got {url!r})")
    if env == "production" and not url.startswith("https://"):
        raise ConfigurationError("base_url: production requires https://")
    return env, url


def resolve_credentials(
    app_id: str | None, private_key: PrivateKeyInput | None
) -> tuple[str, PrivateKeyInput]:
    """The app id and private key from the arguments, else from ``WONDER_*`` variables.

    :raises ConfigurationError: when either is missing.
    """
    app_id = app_id or from_env("WONDER_APP_ID")
    if not app_id:
        raise ConfigurationError("app_id: pass app_id= or set WONDER_APP_ID")
    if private_key is None:
        private_key = from_env("WONDER_PRIVATE_KEY")
        key_file = from_env("WONDER_PRIVATE_KEY_FILE")
        if private_key is None and key_file is not None:
            private_key = os.fspath(key_file)
    if private_key is None:
        raise ConfigurationError(
            "private_key: pass private_key= or set WONDER_PRIVATE_KEY / WONDER_PRIVATE_KEY_FILE"
        )
    return app_id, private_key


def check_positive(name: str, value: float) -> None:
    """:raises ConfigurationError: unless ``value`` is a positive number of seconds."""
    if not value > 0:
        raise ConfigurationError(f"{name}: must be a positive number of seconds")


def resolve_max_response_bytes(value: int | None) -> int:
    """The answer size limit: ``value``, else ``WONDER_MAX_RESPONSE_BYTES``, else the default.

    :raises ConfigurationError: unless it is a whole number of bytes of at least 1024.
    """
    source = "max_response_bytes"
    if value is None:
        text = from_env("WONDER_MAX_RESPONSE_BYTES")
        if text is None:
            return DEFAULT_MAX_RESPONSE_BYTES
        source = "WONDER_MAX_RESPONSE_BYTES"
        try:
            value = int(text.strip().replace("_", ""))
        except ValueError:
            raise ConfigurationError(f"{source}: must be a whole number of bytes") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1024:
        raise ConfigurationError(f"{source}: must be a whole number of bytes, at least 1024")
    return value
