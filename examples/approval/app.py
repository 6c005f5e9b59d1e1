"""A sample app inside Semot's web client: a leave-approval form (请假审批), docs/apps.md.

It runs on its own origin and is added in the admin console as a custom page (终端配置 >
custom pages, opened in the client). In the client's tab the page (static/) gets the
user's identity token over the bridge (/sdk/semot-bridge.js) and sends it with every call
to this backend, which trusts nobody before Semot's server API has verified the token
(`ServerClient.verify_identity`, with an API key of scope `users`). The form then sends
an approval card to the approver's chat, as the user (who confirms it in the client),
and opens that chat.

    SEMOT_API_KEY=sk_... python examples/approval/app.py --semot http://127.0.0.1:8080 --port 8090

Standard library only, plus Semot's Python server SDK (`pip install semot`). Requests are
kept in memory: a sample, not a workflow engine.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from semot.server import ServerAPIError, ServerClient

STATIC = Path(__file__).parent / "static"
KINDS = ("年假", "病假", "事假")


class Approvals:
    """What the backend knows: verified identities (cached until the token expires) and requests."""

    def __init__(self, semot: ServerClient, origin: str) -> None:
        self.semot = semot
        self.origin = origin  # this page's origin: the audience its tokens must be issued for
        self._verified: dict[str, dict[str, Any]] = {}
        self._requests: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def who(self, token: str) -> dict[str, Any]:
        """The user a token names, verified by Semot (ServerAPIError if it is not good)."""
        with self._lock:
            hit = self._verified.get(token)
        if hit is not None and hit["expires_at"] > time.time():
            return hit
        user = self.semot.verify_identity(token, self.origin)
        with self._lock:
            self._verified = {t: u for t, u in self._verified.items() if u["expires_at"] > time.time()}
            self._verified[token] = user
        return user

    def submit(self, user: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
        kind = form.get("kind")
        days = form.get("days")
        reason = str(form.get("reason", "")).strip()
        approver = str(form.get("approver", "")).strip()
        if kind not in KINDS:
            raise ValueError(f"kind: one of {', '.join(KINDS)}")
        if not isinstance(days, int | float) or not 0.5 <= days <= 60:
            raise ValueError("days: 0.5 to 60")
        if not reason or len(reason) > 500:
            raise ValueError("reason: 1-500 characters")
        if not approver or len(approver) > 64:
            raise ValueError("approver: a user id")
        with self._lock:
            # the id is the request page's only key (/r/<id>, linked from the card, opened
            # outside the client where no token is at hand): unguessable, never a counter
            rid = secrets.token_urlsafe(16)
            request = {"id": rid, "applicant": user["user_id"], "applicant_name": user["display_name"], "kind": kind,
                       "days": days, "reason": reason, "approver": approver, "state": "pending", "created_at": int(time.time())}
            self._requests[rid] = request
        return request

    def get(self, rid: str) -> dict[str, Any] | None:
        with self._lock:
            return self._requests.get(rid)


def make_handler(app: Approvals, semot_origin: str) -> type[BaseHTTPRequestHandler]:
    # the page may only be framed by Semot, and load scripts only from here and from Semot
    csp = (f"default-src 'self'; script-src 'self' {semot_origin}; style-src 'self' 'unsafe-inline'; "
           f"connect-src 'self'; img-src 'self' data:; frame-ancestors {semot_origin}; base-uri 'none'; "
           "form-action 'self'")

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", csp)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8")

        def _user(self) -> dict[str, Any] | None:
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                self._json(401, {"error": "no identity token"})
                return None
            try:
                return app.who(token.strip())
            except ServerAPIError as exc:  # expired, for another page, forged, account disabled
                self._json(401 if exc.status in (400, 401) else 403, {"error": exc.message, "code": exc.code})
                return None

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/":
                page = (STATIC / "index.html").read_text(encoding="utf-8")
                page = page.replace("{{SEMOT}}", html.escape(semot_origin, quote=True))
                self._send(200, page.encode(), "text/html; charset=utf-8")
            elif path in ("/app.js", "/style.css"):
                kind = "text/javascript" if path.endswith(".js") else "text/css"
                self._send(200, (STATIC / path[1:]).read_bytes(), f"{kind}; charset=utf-8")
            elif path.startswith("/r/"):
                request = app.get(path[3:])
                if request is None:
                    self._send(404, b"not found", "text/plain; charset=utf-8")
                    return
                rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                               for k, v in request.items())
                body = f"<!doctype html><meta charset=utf-8><title>请假审批</title><table>{rows}</table>"
                self._send(200, body.encode(), "text/html; charset=utf-8")
            else:
                self._send(404, b"not found", "text/plain; charset=utf-8")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            if length > 16384:
                self._json(413, {"error": "too large"})
                return
            raw = self.rfile.read(length) if length else b"{}"
            user = self._user()
            if user is None:
                return
            if path == "/api/whoami":
                self._json(200, {"user": user})
            elif path == "/api/requests":
                try:
                    form = json.loads(raw)
                    if not isinstance(form, dict):
                        raise ValueError("a JSON object")
                    request = app.submit(user, form)
                except ValueError as exc:
                    self._json(400, {"error": str(exc)})
                    return
                self._json(201, {"request": request, "url": f"{app.origin}/r/{request['id']}"})
            else:
                self._json(404, {"error": "not found"})

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Semot sample app: leave approval (请假审批)")
    parser.add_argument("--semot", default="http://127.0.0.1:8080", help="the Semot server's address")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--origin", help="this page's public origin, as configured in Semot "
                        "(default: http://HOST:PORT)")
    args = parser.parse_args(argv)
    key = os.environ.get("SEMOT_API_KEY")
    if not key:
        parser.error("set SEMOT_API_KEY to a server API key with the users scope")
    semot = urlsplit(args.semot)
    semot_origin = f"{semot.scheme}://{semot.netloc}"
    origin = (args.origin or f"http://{args.host}:{args.port}").rstrip("/")
    app = Approvals(ServerClient(args.semot, key), origin)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(app, semot_origin))
    print(f"approval app on {origin}/ (add it in Semot's console: client configuration > custom pages)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
