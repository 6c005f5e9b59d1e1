"""Python SDK for Semot's server API (`/api/server/v1`, docs/integration.md): what an
integrator's backend calls with a server API key.

    from semot.server import ServerClient

    srv = ServerClient("https://im.example.com", "sk_...")
    srv.upsert_user("e1001", display_name="Alice")
    url = srv.sso_ticket("e1001")["url"]   # open it in a browser: signed in as e1001

`AsyncServerClient` has the same methods as coroutines (aiohttp). A refused call raises
`ServerAPIError` with the HTTP status and the wire error code.
"""

from .client import AsyncServerClient, ServerAPIError, ServerClient

__all__ = ["AsyncServerClient", "ServerAPIError", "ServerClient"]
