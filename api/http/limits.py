"""HTTP limits that keep one request from hurting the others.

:class:`LimitsMiddleware` is a pure ASGI middleware rejecting bodies over ``max_body_bytes``
(413) and requests running past ``request_timeout_s`` (504). The GraphQL limits (cost,
page sizes, text lengths) are in :mod:`cosmo.api.graphql.limits`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

__all__ = ["LimitsMiddleware"]


class LimitsMiddleware:
    """Reject oversized bodies (413) and slow requests (504) before they cost more."""

    def __init__(self, app: Any, *, max_body: int, timeout_s: float) -> None:
        self.app = app
        self.max_body = max_body
        self.timeout_s = timeout_s

    async def _reply(self, send: Any, status: int, message: str) -> None:
        body = json.dumps({"errors": [{"message": message}]}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", ()):
            if k == b"content-length" and v.isdigit() and int(v) > self.max_body:
                await self._reply(send, 413, f"request body over {self.max_body} bytes")
                return
        seen = 0

        async def limited_receive() -> Any:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge
            return msg

        started = False

        async def tracking_send(msg: Any) -> None:
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            async with asyncio.timeout(self.timeout_s):
                await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reply(send, 413, f"request body over {self.max_body} bytes")
        except TimeoutError:
            if not started:
                await self._reply(send, 504, f"request took longer than {self.timeout_s} s")


class _TooLarge(Exception):
    pass
