"""The dashboard's HTML: escaping, tables, state badges, forms and the page around every body.

Every value goes through :func:`esc` (customer names are hostile input). :class:`PageBase`
is what every group of pages (:mod:`._dashboard_pages`, :mod:`._dashboard_traffic`) starts
from: the emulator and the CSRF token, and the one-button forms that carry it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

from aiohttp import web

if TYPE_CHECKING:
    from ._server import Emulator

__all__ = ["LIST_LIMIT", "PREFIX", "SECURITY_HEADERS", "PageBase", "badge", "esc", "page", "table"]

#: Everything but the home page lives under this prefix, away from the API's ``/svc/``.
PREFIX: Final = "/dashboard"
#: A list page shows at most this many rows (customers, orders, webhook deliveries), the newest.
LIST_LIMIT: Final = 100
_H1: Final = re.compile(r"<h1>(.*?)</h1>", re.S)
_TAGS: Final = re.compile(r"<[^>]*>")

#: Sent with every page, redirect and refusal of the dashboard.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_NAV: Final = (
    ("/", "Customers"),
    (f"{PREFIX}/orders", "Orders"),
    (f"{PREFIX}/webhooks", "Webhooks"),
    (f"{PREFIX}/faults", "Faults"),
    (f"{PREFIX}/requests", "Requests"),
)

#: What a finished action says on the page it returns to (fixed texts: nothing from a URL).
_NOTICES: Final = {
    "reset": "All customers, tokens, orders, webhooks, faults and counters were reset.",
    "approved": "The 3-D Secure challenge was approved.",
    "declined": "The 3-D Secure challenge was declined.",
    "paid": "The order was paid.",
    "faults-set": "The fault spec is set.",
    "faults-cleared": "All fault rules and scripts were cleared.",
}


def esc(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute; ``None`` shows as a dash."""
    return "—" if value is None else html.escape(str(value), quote=True)


def badge(value: object) -> str:
    """A state (``pending``, ``paid``...) as a span its CSS class colours."""
    text = "—" if value is None else str(value)
    css = "".join(ch for ch in text if ch.isalnum() or ch in "-_")
    return f'<span class="state state-{css}">{esc(text)}</span>'


def table(
    caption: str,
    headers: Iterable[str],
    rows: list[str],
    empty: str,
    *,
    quiet: bool = False,
    numeric: Iterable[str] = (),
) -> str:
    """A table with column headers; ``quiet`` hides the caption from sight (a heading says it).

    ``numeric`` names the columns whose cells are right-aligned numbers.
    """
    if not rows:
        return f'<p class="muted">{esc(empty)}</p>'
    right = set(numeric)
    head = "".join(
        f'<th scope="col"{" class=num" if h in right else ""}>{esc(h)}</th>' for h in headers
    )
    return (
        f"<table><caption{' class=vh' if quiet else ''}>{esc(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def page(request: web.Request, body: str, *, status: int = 200) -> web.Response:
    """``body`` in the dashboard's page: title, navigation, the last action's notice."""
    here = request.path
    links = "".join(
        f'<li><a href="{path}"{" aria-current=page" if path == here else ""}>{name}</a></li>'
        for path, name in _NAV
    )
    # The page's title is its (already escaped) first heading, e.g. "Customer ref-1".
    heading = _H1.search(body)
    title = _TAGS.sub("", heading.group(1)) + " · " if heading else ""
    notice = _NOTICES.get(request.query.get("done", ""))
    flash = f'<p class="notice" role="status">{esc(notice)}</p>' if notice else ""
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}Wonder emulator dashboard</title>
<link rel="stylesheet" href="{PREFIX}/static/dashboard.css">
<link rel="icon" href="{PREFIX}/static/icon.svg" type="image/svg+xml">
<script src="{PREFIX}/static/dashboard.js" defer></script>
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><span class="brand">Wonder emulator</span>
<nav aria-label="Dashboard"><ul>{links}</ul></nav>
<label hidden><input type="checkbox" id="live"> Live refresh</label></header>
<main id="main">{flash}{body}</main>
</body></html>"""
    return web.Response(
        text=document, content_type="text/html", status=status, headers=SECURITY_HEADERS
    )


class PageBase:
    """What the dashboard's pages share: the emulator they show and the CSRF token.

    :param emu: the emulator whose state they show.
    :param csrf_token: the token every form carries in its hidden ``csrf`` field.
    """

    def __init__(self, emu: Emulator, csrf_token: str) -> None:
        self.emu = emu
        self.csrf_token = csrf_token

    def _form(
        self,
        action: str,
        button: str,
        *,
        fields: Mapping[str, str] | None = None,
        label: str | None = None,
        css: str | None = None,
    ) -> str:
        """A one-button POST form carrying the CSRF token.

        :param label: more button text for screen readers only (which row it acts on).
        """
        hidden = "".join(
            f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
            for k, v in {"csrf": self.csrf_token, **(fields or {})}.items()
        )
        extra = f'<span class="vh"> {esc(label)}</span>' if label else ""
        css = f' class="{esc(css)}"' if css else ""
        return (
            f'<form class="inline" method="post" action="{esc(action)}">{hidden}'
            f"<button type=submit{css}>{esc(button)}{extra}</button></form>"
        )
