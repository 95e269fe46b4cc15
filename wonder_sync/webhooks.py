"""Webhook verification for blocking code: the very same objects as :mod:`wonder_async.webhooks`.

Verification does no I/O, so there is nothing to wrap.
"""

from wonder_async.webhooks import DEFAULT_MAX_AGE as DEFAULT_MAX_AGE
from wonder_async.webhooks import WebhookEvent as WebhookEvent
from wonder_async.webhooks import WebhookVerifier as WebhookVerifier
from wonder_async.webhooks import verify_webhook as verify_webhook

__all__ = ["DEFAULT_MAX_AGE", "WebhookEvent", "WebhookVerifier", "verify_webhook"]
