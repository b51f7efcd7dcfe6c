"""Streamable HTTP for the MCP server: loopback by default (with the SDK's DNS-rebinding protection), and an
optional bearer token checked before any request reaches the server."""

from __future__ import annotations

import hmac
from typing import Any

__all__ = ["BearerToken", "serve_http"]


class BearerToken:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>`` (compared in constant
    time), or it is answered 401 without reaching the app."""

    def __init__(self, app: Any, token: str) -> None:
        token = token.strip()  # pasted secrets often carry a newline; the header cannot
        if not token:
            raise ValueError("the bearer token is empty or only spaces")
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = b'{"error": "missing or wrong bearer token"}'
                headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def serve_http(server: Any, *, host: str, port: int, token: str | None) -> None:
    """Serve ``server`` (a FastMCP) over streamable HTTP at ``http://host:port/mcp`` until interrupted."""
    import uvicorn

    app = server.streamable_http_app()
    uvicorn.run(BearerToken(app, token) if token else app, host=host, port=port, log_level="info")
