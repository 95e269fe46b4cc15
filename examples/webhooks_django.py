"""Receive Wonder's webhooks in a Django view (the blocking ``wonder_sync`` package).

Put the view in your app's ``views.py`` and route it in ``urls.py`` (below); settings
``WONDER_WEBHOOK_PUBLIC_KEY`` (the portal's Webhook Public Key, PEM text or a path) and
``WONDER_APP_ID`` hold the configuration. The test suite sends it real webhooks signed by the
emulator.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wonder_sync import WebhookEvent, WebhookVerificationError
from wonder_sync.webhooks import WebhookVerifier

log = logging.getLogger(__name__)
verifier = WebhookVerifier(settings.WONDER_WEBHOOK_PUBLIC_KEY, app_id=settings.WONDER_APP_ID)


def handle(event: WebhookEvent) -> None:
    """Your processing. Make it idempotent: the same event can be delivered more than once."""
    log.info("Wonder webhook %s for order %s", event.action, event.order and event.order.number)


@csrf_exempt  # Wonder cannot send a CSRF token; the signature authenticates the request
@require_POST
def wonder_webhook(request: HttpRequest) -> HttpResponse:
    try:
        # request.body is the raw bytes; get_full_path() is the path plus ?query
        event = verifier.verify(request.body, request.headers, request.get_full_path())
    except WebhookVerificationError as exc:
        log.warning("refused a Wonder webhook: %s", exc.check)
        # 400 when forged; 503 when authentic but stale, so Wonder retries instead of dropping it
        return HttpResponse(status=exc.answer_status)
    handle(event)
    return HttpResponse(status=200)


urlpatterns = [path("hooks/wonder", wonder_webhook)]
