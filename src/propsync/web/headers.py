"""Security headers on every reply: what a browser may load, frame and send on.

The UI's pages load scripts, styles and images from propsync only (no inline script or
style: templates keep none), are never framed, and send no Referer to other sites. API
replies are JSON that no browser should render, so their policy allows nothing at all;
the API docs (``/docs``, ``/redoc``: api/docs.py) load from propsync only and are never framed.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UI_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
             "base-uri 'none'; object-src 'none'")
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCS_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
               "form-action 'none'")
# ReDoc styles itself with <style> elements it writes at run time (styled-components), and
# runs its search in a worker it makes from its own code (a blob: URL), so its page admits
# those two; its scripts still come from propsync only. Its "API docs by Redocly" badge is
# an image on a CDN: refused here, ReDoc then leaves it out.
REDOC_POLICY = DOCS_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") + (
    "; worker-src blob:")
COMMON = (("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"),
          ("X-Content-Type-Options", "nosniff"))


def policy_for(path: str) -> str:
    if path == "/ui" or path.startswith("/ui/"):
        return UI_POLICY
    if path == "/redoc":
        return REDOC_POLICY
    if path == "/docs" or path.startswith("/docs/"):
        return DOCS_POLICY
    return API_POLICY


class SecurityHeaders:
    """ASGI middleware adding the headers to every HTTP reply that does not set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = (("Content-Security-Policy", policy_for(scope["path"])), *COMMON)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
