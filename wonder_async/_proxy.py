"""The HTTP(S) proxy a client sends through: ``proxy=``, else the environment.

``HTTPS_PROXY`` / ``HTTP_PROXY`` (by the gateway URL's scheme; lower-case names too) and
``NO_PROXY`` are read once, when the client is created, as ``requests`` and ``httpx`` read
them. Credentials in a proxy URL (``http://user:secret@proxy:3128``) become the
``Proxy-Authorization`` of the CONNECT/forwarded request only: the proxy's URL kept and shown
anywhere (errors, logs, ``repr``) is ``scheme://host:port``, without them.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import aiohttp
import attrs
from yarl import URL

from ._errors import ConfigurationError

__all__ = ["Proxy", "resolve_proxy"]


@attrs.frozen
class Proxy:
    """A proxy to send through: its URL without credentials, and the ``Proxy-Authorization``
    value they make (never in a repr)."""

    url: URL
    authorization: str | None = attrs.field(default=None, repr=False)

    @property
    def display(self) -> str:
        """``scheme://host:port``: what errors and logs may show."""
        return f"{self.url.scheme}://{self.url.host}:{self.url.port}"


def _parse(text: str, source: str) -> Proxy:
    try:
        url = URL(text.strip())
        host, scheme = url.host, url.scheme
        if not scheme and host is None and "://" not in text:  # "proxy:3128", as curl allows
            url = URL("http://" + text.strip())
            host, scheme = url.host, url.scheme
    except (ValueError, TypeError):
        host, scheme = None, ""
    if scheme not in ("http", "https") or not host:
        # Never echo the value: it may hold the proxy's password.
        raise ConfigurationError(
            f"{source}: must be an http:// or https:// proxy URL like http://proxy:3128"
        )
    try:
        auth = (
            aiohttp.encode_basic_auth(url.user or "", url.password or "")
            if url.user is not None or url.password is not None
            else None
        )
    except ValueError:
        raise ConfigurationError(f"{source}: the proxy user name must not contain ':'") from None
    return Proxy(url.with_user(None).with_path("").with_query(None).with_fragment(None), auth)


def resolve_proxy(proxy: str | None, base_url: str) -> Proxy | None:
    """The proxy for requests to ``base_url``: ``proxy`` when given (``""``: none, whatever
    the environment says), else the environment's, unless ``NO_PROXY`` exempts the host.

    :raises ConfigurationError: for a proxy URL that is not http(s), without echoing it.
    """
    if proxy is not None:
        return _parse(proxy, "proxy") if proxy else None
    target = URL(base_url)
    found = urllib.request.getproxies_environment()
    text = found.get(target.scheme or "https")
    if not text:
        return None
    bypass: Any = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009 - untyped
    if target.host and bypass(target.host, found):
        return None
    return _parse(text, f"{target.scheme.upper()}_PROXY")
