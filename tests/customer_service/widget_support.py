"""The stack of the widget, workbench and shop tests: a real `semot serve` (with a super
admin), the sample shop (examples/shop, Flask) as a subprocess on ANOTHER origin
(`http://localhost:<port>` while Semot is `http://127.0.0.1:<port>`), a server API key
and a webhook for the shop, a queue and agents set up through the admin API.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.browser.admin.conftest import ADMIN, ADMIN_PASSWORD, create_admin
from tests.browser.conftest import PASSWORD
from tests.support.server import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop" / "shop.py"
A = "/api/admin/v1"
STAFF_PASSWORD = "staff-pw-1"  # the shop's /staff and /events (HTTP basic auth)
STAFF_AUTH = "Basic " + base64.b64encode(f"staff:{STAFF_PASSWORD}".encode()).decode()


def call(method: str, url: str, body: Any = None, token: str | None = None, *, authorization: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if authorization:
        req.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{method} {url} -> {exc.code} {exc.read()[:500]!r}") from None


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@dataclass
class Stack:
    semot: ServerProcess
    shop_port: int
    admin_token: str
    queue_id: str
    agents: dict[str, str] = field(default_factory=dict)  # username -> user_id
    shop_proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return self.semot.base

    @property
    def shop(self) -> str:
        return f"http://localhost:{self.shop_port}"  # another origin than Semot's 127.0.0.1

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        return call(method, self.base + A + path, body, self.admin_token)

    def login(self, username: str) -> dict[str, Any]:
        return dict(call("POST", self.base + "/api/v1/auth/login", {"username": username, "password": PASSWORD}))

    def as_user(self, username: str, method: str, path: str, body: Any = None) -> Any:
        return call(method, self.base + path, body, self.login(username)["access_token"])

    def new_agent(self, prefix: str, display: str, field_: str = "售前咨询", max_concurrent: int = 5) -> str:
        name = f"{prefix}{uuid.uuid4().hex[:6]}"
        call("POST", self.base + "/api/v1/auth/register", {"username": name, "password": PASSWORD, "display_name": display})
        uid = self.login(name)["user_id"]
        self.admin("PUT", f"/cs/agents/{uid}", {"queues": [self.queue_id], "field": field_, "max_concurrent": max_concurrent})
        self.agents[name] = uid
        return name

    def widget(self) -> dict[str, Any]:
        return dict(call("GET", self.base + "/api/v1/cs/widget"))

    def shop_events(self) -> list[dict[str, Any]]:
        return list(call("GET", self.shop + "/events?format=json", authorization=STAFF_AUTH))


def start_stack(tmp: Path) -> Iterator[Stack]:
    semot = ServerProcess(tmp / "semot" / "data")
    create_admin(semot.data_dir, ADMIN, ADMIN_PASSWORD, semot.env)
    semot.start()
    shop_proc = None
    try:
        admin_token = call("POST", semot.base + "/api/v1/auth/login", {"username": ADMIN, "password": ADMIN_PASSWORD})["access_token"]
        shop_port = free_port()
        shop_origin = f"http://localhost:{shop_port}"
        queue = call("POST", semot.base + A + "/cs/queues", {"name": "售前", "description": "商品咨询"}, admin_token)
        call("PUT", semot.base + A + "/cs/settings", {
            "title": "小店客服", "greeting": "欢迎光临，有什么可以帮您？", "color": "#c0392b",
            "offline_message": "客服下班了，请留言，我们上班后第一时间回复。",
            "allowed_origins": [shop_origin], "frame_ancestors": [shop_origin],
        }, admin_token)
        key = call("POST", semot.base + A + "/api-keys", {"name": "shop"}, admin_token)["key"]
        hook = call("POST", semot.base + A + "/webhooks", {
            "url": f"http://127.0.0.1:{shop_port}/semot/webhook", "events": ["message.sent"],
        }, admin_token)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
        log = open(tmp / "shop.log", "ab")
        shop_proc = subprocess.Popen(
            # `--opt=value`: a secret may start with "-", which argparse would take for an option
            [sys.executable, str(SHOP), "--semot", semot.base, f"--key={key}", f"--webhook-secret={hook['secret']}",
             "--db", str(tmp / "shop.db"), "--host", "127.0.0.1", "--port", str(shop_port),
             f"--staff-password={STAFF_PASSWORD}"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        log.close()

        def shop_up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{shop_port}/", timeout=2) as r:
                    return r.status == 200
            except OSError:
                assert shop_proc is not None and shop_proc.poll() is None, (tmp / "shop.log").read_text()[-2000:]
                return False

        wait_for(shop_up, 60, "the shop to start")
        yield Stack(semot, shop_port, admin_token, queue["queue_id"], shop_proc=shop_proc)
    finally:
        if shop_proc is not None and shop_proc.poll() is None:
            shop_proc.terminate()
            shop_proc.wait(10)
        semot.kill()


def widget_frame(page: Any) -> Any:
    """The widget's frame in a shop page (Playwright Frame), once its script runs."""
    def find() -> Any:
        for f in page.frames:
            if "/widget/" in f.url:
                try:
                    if f.evaluate("!!window.__semotWidget"):
                        return f
                except Exception:
                    return None
        return None

    return wait_for(find, 30, "the widget frame")


def web_login(page: Any, base: str, username: str) -> None:
    """Sign in to the web client through its login form."""
    page.goto(base + "/")
    page.fill("[data-testid=username]", username)
    page.fill("[data-testid=password]", PASSWORD)
    page.click("[data-testid=submit]")
    page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'", timeout=30_000)


def agent_online(page: Any, stack: Stack, username: str, online: str = "在线") -> None:
    """The agent signs in to the web client and goes online in its workbench (`online`: the
    state's label in the page's language); returns once the server counts them online, since
    sessions are offered only to agents it sees online."""
    web_login(page, stack.base, username)
    page.click("[data-testid=nav-service]")
    page.wait_for_selector("[data-testid=cs-workbench]")
    page.click("[data-testid=cs-state]")
    page.click(f".el-select-dropdown__item:has-text('{online}')")
    wait_for(lambda: stack.as_user(username, "GET", "/api/v1/cs/agent/workbench")["me"]["state"] == "online",
             what=f"{username} online")


def buyer_at_product(page: Any, stack: Stack, product: str = "p1") -> Any:
    """The shop's buyer alice signs in at the shop and opens a product page: the widget
    there becomes her through the shop's sign-in ticket, not an anonymous visitor.
    Returns the widget's frame."""
    page.goto(stack.shop + "/login")
    page.fill("[data-testid=login-username]", "alice")
    page.fill("[data-testid=login-password]", "alice123")
    page.click("[data-testid=login-submit]")
    page.goto(f"{stack.shop}/product/{product}")
    frame = widget_frame(page)
    wait_for(lambda: frame.evaluate("window.__semotWidget.me && window.__semotWidget.me.user_id") == "shop-alice",
             what="the buyer signed in")
    return frame
