"""Receive Wonder's webhooks in FastAPI (the same code works in plain Starlette).

Serve it with any ASGI server, e.g. ``uvicorn webhooks_fastapi:app``, with the environment
variables below set. The test suite sends it real webhooks signed by the emulator.
"""

import logging
import os

from fastapi import FastAPI, Request, Response

from wonder_async import WebhookEvent, WebhookVerificationError
from wonder_async.webhooks import WebhookVerifier

# The Webhook Public Key the portal showed when the AppID was created (PEM text or a path).
WEBHOOK_PUBLIC_KEY = os.environ["WONDER_WEBHOOK_PUBLIC_KEY"]
APP_ID = os.environ["WONDER_APP_ID"]

log = logging.getLogger(__name__)
app = FastAPI()
verifier = WebhookVerifier(WEBHOOK_PUBLIC_KEY, app_id=APP_ID)


async def handle(event: WebhookEvent) -> None:
    """Your processing. Make it idempotent: the same event can be delivered more than once."""
    log.info("Wonder webhook %s for order %s", event.action, event.order and event.order.number)


# Take the Request itself, not a Pydantic body model, which would parse the JSON first.
@app.post("/hooks/wonder")
async def wonder_webhook(request: Request) -> Response:
    body = await request.body()  # the raw bytes, not await request.json()
    # request.url.path is percent-decoded: if your path has % escapes, use
    # request.scope["raw_path"].decode("ascii") instead.
    uri = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        event = verifier.verify(body, request.headers, uri)
    except WebhookVerificationError as exc:
        log.warning("refused a Wonder webhook: %s", exc.check)
        # 400 when forged; 503 when authentic but stale, so Wonder retries instead of dropping it
        return Response(status_code=exc.answer_status)
    await handle(event)
    return Response(status_code=200)


# In plain Starlette, the same function is mounted with:
#   from starlette.applications import Starlette
#   from starlette.routing import Route
#   app = Starlette(routes=[Route("/hooks/wonder", wonder_webhook, methods=["POST"])])
