"""The dashboard's pages of the emulator's traffic: webhooks sent, faults and requests.

The webhook log shows each delivery's attempts, each as a copyable ``curl`` command, and the
public key webhooks verify with; the faults page shows and sets the fault rules (its form
posts to :class:`~._dashboard.Dashboard`); the requests page counts signed requests per
route. The customer and order pages are in :mod:`._dashboard_pages`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ._dashboard_html import LIST_LIMIT, PREFIX, PageBase, badge, esc, table
from ._faults import ROUTES, FaultPlan

__all__ = ["TrafficPages"]


def _curl(url: str, headers: Mapping[str, str], body: str) -> str:
    """A ``curl`` command that sends exactly this request again (shell-quoted)."""
    lines = [f"curl -X POST {shlex.quote(url)}"]
    lines += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items()]
    lines.append(f"--data-raw {shlex.quote(body)}")
    return " \\\n  ".join(lines)


class TrafficPages(PageBase):
    """The webhook, fault and request pages; each method renders one page's body."""

    async def webhooks(self, _request: web.Request) -> str:
        deliveries: dict[object, list[Mapping[str, Any]]] = {}
        for i, entry in enumerate(self.emu.webhook_log):
            deliveries.setdefault(entry.get("delivery", ("entry", i)), []).append(entry)
        sections = []
        newest = list(deliveries.values())[-LIST_LIMIT:]
        for n, attempts in enumerate(reversed(newest)):
            first = attempts[0]
            rows = []
            for a_i, attempt in enumerate(attempts):
                status = attempt.get("status")
                ok = isinstance(status, int) and 200 <= status < 300
                curl = ""
                headers = attempt.get("headers")
                if isinstance(headers, Mapping):
                    pre_id = f"curl-{n}-{a_i}"
                    command = _curl(str(attempt.get("url")), headers, str(attempt.get("body", "")))
                    curl = (
                        f"<details><summary>Signed request as curl</summary>"
                        f'<pre id="{pre_id}">{esc(command)}</pre>'
                        f'<button type="button" data-copy="{pre_id}">Copy</button></details>'
                    )
                rows.append(
                    f'<tr><th scope="row" class="num">{esc(attempt.get("attempt"))}</th>'
                    f"<td>{badge('success' if ok else 'failed')} {esc(status)}</td>"
                    f"<td>{curl}</td></tr>"
                )
            sections.append(
                f'<section class="delivery"><h2>{esc(first.get("action"))} → '
                f"<code>{esc(first.get('url'))}</code></h2>"
                + table(
                    "Attempts",
                    ("Attempt", "Answer", "Request"),
                    rows,
                    "",
                    quiet=True,
                    numeric=("Attempt",),
                )
                + "</section>"
            )
        key = self._webhook_key()
        if not sections:
            return (
                "<h1>Webhooks</h1><p class=muted>No webhooks sent yet. Orders created with a "
                "<code>callback_url</code> are notified when they are created and paid.</p>" + key
            )
        shown = f"{len(newest)} of {len(deliveries)}"
        return (
            f"<h1>Webhooks</h1><p>Deliveries, newest first ({shown}).</p>" + key + "".join(sections)
        )

    def _webhook_key(self) -> str:
        """The public key the emulator's webhooks verify with, and the body shape they have."""
        readings = self.emu.readings
        return (
            '<section class="webhook-key"><h2>Webhook public key</h2>'
            "<p>Handlers in any language verify this emulator's webhooks with this key (the "
            "portal's <q>Webhook Public Key</q>). Body: <code>webhook_body="
            f"{esc(readings['webhook_body'])}</code>, retries: <code>webhook_resign="
            f"{esc(readings['webhook_resign'])}</code>.</p>"
            f'<pre id="webhook-public-key">{esc(self.emu.webhook_public_key_pem.strip())}</pre>'
            '<button type="button" data-copy="webhook-public-key">Copy</button></section>'
        )

    async def faults(self, request: web.Request) -> str:
        return self.faults_page(self.emu.faults, request.query.get("spec", ""), None)

    def faults_page(self, plan: FaultPlan, spec: str, error: str | None) -> str:
        rows = [
            f'<tr><th scope="row"><code>{esc(route)}</code></th><td>{esc(f.kind)}</td>'
            f'<td class="num">{f.rate:g}</td>'
            f'<td class="num">{"—" if f.param is None else f"{f.param:g} s"}</td></tr>'
            for route, faults in plan.rules.items()
            for f in faults
        ]
        scripts = [
            f'<tr><th scope="row"><code>{esc(route)}</code></th><td>'
            + " | ".join(
                esc(f.kind if f.param is None else f"{f.kind}@{f.param:g}s") for f in queue
            )
            + "</td></tr>"
            for route, queue in plan.scripts.items()
            if queue
        ]
        injected = [
            f'<tr><th scope="row">{esc(kind)}</th><td class="num">{count}</td></tr>'
            for kind, count in sorted(plan.injected.items())
        ]
        problem = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        form = (
            f'<form class="row" method="post" action="{PREFIX}/faults">'
            f'<input type="hidden" name="csrf" value="{esc(self.csrf_token)}">'
            f'<label for="spec">Fault spec (replaces the current rules)'
            f'<input type="text" id="spec" name="spec" value="{esc(spec)}" required '
            f'placeholder="*:503=0.05;orders.create:script=500|ok" spellcheck="false"></label>'
            f"<button type=submit>Set faults</button></form>"
        )
        clear = self._form(f"{PREFIX}/faults/clear", "Clear all faults", css="danger")
        return (
            f"<h1>Faults</h1>{problem}{form}<p>{clear}</p>"
            + table(
                "Rate rules",
                ("Route", "Kind", "Rate", "Parameter"),
                rows,
                "No rate rules set.",
                numeric=("Rate", "Parameter"),
            )
            + table("Scripts (what the next requests get)", ("Route", "Next"), scripts, "")
            + ("" if scripts else '<p class="muted">No scripts set.</p>')
            + table(
                "Faults injected so far",
                ("Kind", "Count"),
                injected,
                "No faults injected.",
                numeric=("Count",),
            )
            + '<p class="muted">Grammar: <code>ROUTE:KIND=RATE[@PARAM],...;'
            "ROUTE:script=KIND|KIND...</code>; routes: <code>*</code>, "
            + ", ".join(f"<code>{esc(r)}</code>" for r in ROUTES)
            + ".</p>"
        )

    async def requests(self, _request: web.Request) -> str:
        counts = self.emu.requests
        rows = [
            f'<tr><th scope="row"><code>{esc(route)}</code></th>'
            f'<td class="num">{counts.get(route, 0)}</td></tr>'
            for route in (*ROUTES, *sorted(set(counts) - set(ROUTES)))
        ]
        total = sum(counts.values())
        return f"<h1>Requests</h1><p>{total} signed API requests so far.</p>" + table(
            "Requests per route", ("Route", "Requests"), rows, "", numeric=("Requests",)
        )
