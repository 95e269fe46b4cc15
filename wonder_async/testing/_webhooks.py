"""Webhook delivery of the emulator: signed with Wonder's own key, retried, logged.

Each state change of an order is POSTed to the order's ``callback_url`` in the background,
signed like a request (Credential/Nonce/Signature) with the emulator's webhook key, with the
action in ``X-Action``. The body follows the ``webhook_body`` reading: ``envelope`` (the
default) is the Query order answer ``{"code": 200, "message": "success", "data": {"order":
...}}``, ``order`` the order at the root, ``wrapped`` ``{"order": ...}`` (what 0.1 sent).
Wonder's WooCommerce handler reads the first two (gateway.php:1009-1019). With
``webhook_resign=fresh`` every attempt is signed again; with ``original`` retries resend the
first attempt's headers and body byte for byte, so their Credential time ages. Every attempt
is appended to ``Emulator.webhook_log``, which keeps the newest
``Emulator.webhook_log_limit`` attempts (1000 unless set) so a long-running ``wonder emulator``
does not grow without bound. The callback URL is used exactly
as the merchant wrote it: its path and query are neither decoded nor re-encoded, so the URI
the merchant's server receives is the one the signature covers. Each log entry also keeps the
signed headers and body it sent (the dashboard shows them as a curl command).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Final

import aiohttp
from yarl import URL

from .._wire import ok_envelope
from ._common import EmulatorBase

__all__ = ["DEFAULT_WEBHOOK_LOG_LIMIT", "WebhooksMixin"]

#: Delivery attempts ``Emulator.webhook_log`` keeps unless ``webhook_log_limit`` is set.
DEFAULT_WEBHOOK_LOG_LIMIT: Final = 1000


class WebhooksMixin(EmulatorBase):
    """Background, retried, signed delivery of order webhooks."""

    _webhook_log_limit: int = DEFAULT_WEBHOOK_LOG_LIMIT

    @property
    def webhook_log_limit(self) -> int:
        """Most delivery attempts :attr:`webhook_log` keeps; older ones are dropped first.

        1000 unless set (``emu.webhook_log_limit = 50``, ``wonder emulator
        --webhook-log-limit 50``); lowering it drops the oldest entries at once.

        :raises ValueError: when set to anything but a positive integer.
        """
        return self._webhook_log_limit

    @webhook_log_limit.setter
    def webhook_log_limit(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"webhook_log_limit: must be a positive integer (got {value!r})")
        self._webhook_log_limit = value
        self._trim_webhook_log()

    def _trim_webhook_log(self) -> None:
        # A list (not a deque): slicing keeps working, and a reader on another thread that
        # iterates it while the emulator appends never gets "mutated during iteration".
        excess = len(self.webhook_log) - self._webhook_log_limit
        if excess > 0:
            del self.webhook_log[:excess]

    def _notify(self, action: str, order: dict[str, Any]) -> None:
        """Deliver ``action`` for ``order`` (its view) to its callback_url in the background."""
        url = order.get("callback_url")
        if not url:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(action, str(url), order))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def wait_for_webhooks(self) -> None:
        """Wait until every webhook scheduled so far was delivered or given up on."""
        while self._background:
            await asyncio.wait(list(self._background))

    def _webhook_body(self, order: dict[str, Any]) -> dict[str, Any]:
        if self.readings.is_("webhook_body", "order"):
            return order
        if self.readings.is_("webhook_body", "wrapped"):
            return {"order": order}
        return ok_envelope({"order": order})

    async def _deliver(self, action: str, url: str, order: dict[str, Any]) -> None:
        # encoded=True: "%2F" in the merchant's query stays "%2F" (URL() would decode it).
        target = URL(url, encoded=True)
        uri = target.raw_path_qs
        body = json.dumps(self._webhook_body(order)).encode()
        resign = self.readings.is_("webhook_resign", "fresh")
        first: dict[str, str] | None = None
        if self._webhook_session is None:
            self._webhook_session = aiohttp.ClientSession()
        delivery = next(self._deliveries)
        for attempt, delay in enumerate((0.0, *self.webhook_retry_delays), start=1):
            await asyncio.sleep(delay)
            if first is None or resign:
                headers = self._webhook_signer.sign("POST", uri, body)
                headers.update({"Content-Type": "application/json", "X-Action": action})
                first = headers
            else:
                headers = dict(first)
            status: int | str
            try:
                async with self._webhook_session.post(
                    target, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=5)
                ) as resp:
                    status = resp.status
            # asyncio.TimeoutError is not the builtin TimeoutError on Python 3.10.
            except (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError) as exc:
                status = type(exc).__name__
            # The exact signed request, for the dashboard's copyable curl command.
            self.webhook_log.append(
                {
                    "action": action,
                    "url": url,
                    "status": status,
                    "attempt": attempt,
                    "delivery": delivery,
                    "headers": headers,
                    "body": body.decode(),
                }
            )
            self._trim_webhook_log()
            # 2xx: delivered; 4xx: the merchant refused it, not resent (older docs' rule).
            if isinstance(status, int) and status < 500:
                return
