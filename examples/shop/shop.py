"""A sample shop next to Semot: products, buyers, orders, and Semot's customer service.

    semot apikey create --name shop             # prints sk_... (last line)
    python examples/shop/shop.py --semot http://127.0.0.1:8080 --key sk_...

What it shows (examples/shop/README.md):
- every page carries Semot's widget (`<script src=".../widget.js">`); a product page's
  "咨询客服" opens it with the product as the context card, the orders page with an order;
- buyers sign in here; the shop creates/updates them in Semot (server API, `PUT /users`,
  `external: true`: customers, limited to customer service, not staff) and hands the widget a single-use SSO ticket, so the agent sees a member, not a stranger;
- "消息 / Messages" opens Semot's web client signed in (an SSO ticket URL);
- a staff page changes an order's status: the buyer gets a notification (`evt notify`)
  and an order card (a `custom` message of type `app_card`, which the web client shows as
  a card) from the shop's own account ("shop");
- `/semot/webhook` receives Semot's webhooks (signature checked) and `/events` lists them;
  the staff pages and `/events` ask for the staff password (HTTP basic auth).

Flask and the standard library only, plus Semot's Python server SDK (`semot.server`).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, jsonify, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from semot.server import ServerAPIError, ServerClient

log = logging.getLogger("shop")
HERE = Path(__file__).resolve().parent
SHOP_ACCOUNT = "shop"  # the shop's own Semot user: order cards come from it
STATUSES = ["待付款", "已付款", "已发货", "已签收"]

PRODUCTS = [
    ("p1", "青花瓷茶杯", "景德镇手工青花瓷，容量 200 ml。", "59.00", "cup.svg"),
    ("p2", "竹编收纳篮", "天然竹编，适合收纳杂物与水果。", "89.00", "basket.svg"),
    ("p3", "真丝围巾", "桑蚕丝，180 × 60 cm，多色可选。", "199.00", "scarf.svg"),
]
BUYERS = [("alice", "Alice 王", "alice123"), ("bob", "Bob 李", "bob12345")]

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, name TEXT, description TEXT, price TEXT, image TEXT);
CREATE TABLE IF NOT EXISTS buyers (username TEXT PRIMARY KEY, display_name TEXT, password_hash TEXT);
CREATE TABLE IF NOT EXISTS orders (order_no TEXT PRIMARY KEY, buyer TEXT, product_id TEXT, status TEXT, created_at INTEGER);
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, event TEXT, received_at INTEGER, body TEXT);
"""


def semot_user(username: str) -> str:
    """The buyer's id in Semot (ids: A-Z a-z 0-9 _ . -)."""
    return f"shop-{username}"


def safe_next(nxt: str | None) -> str:
    """A path on this site to go back to after signing in, else "/": no scheme, no host,
    no backslash (browsers read `/\\evil.example` as `//evil.example`), no control characters."""
    if not nxt or "\\" in nxt or any(ord(c) < 0x20 or ord(c) == 0x7F for c in nxt):
        return "/"
    parts = urlsplit(nxt)
    if parts.scheme or parts.netloc or not nxt.startswith("/") or nxt.startswith("//"):
        return "/"
    return nxt


def create_app(
    *, semot_url: str, api_key: str, public_semot_url: str | None = None, db_path: str = "shop.db",
    webhook_secret: str = "", secret_key: str | None = None, lang: str = "zh-CN", staff_password: str = "",
    secure_cookies: bool = False,
) -> Flask:
    app = Flask(__name__, template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    app.secret_key = secret_key or secrets.token_hex(16)
    # served over https (behind a TLS proxy): the session cookie is sent over https only
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=secure_cookies)
    semot = ServerClient(semot_url, api_key, timeout=10)
    public = (public_semot_url or semot_url).rstrip("/")

    def db() -> sqlite3.Connection:
        if "db" not in g:
            g.db = sqlite3.connect(db_path)
            g.db.row_factory = sqlite3.Row
        return g.db  # type: ignore[no-any-return]

    @app.teardown_appcontext
    def close_db(_: BaseException | None) -> None:
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    def seed() -> None:
        conn = sqlite3.connect(db_path)
        conn.executescript(SCHEMA)
        conn.executemany("INSERT OR IGNORE INTO products VALUES (?, ?, ?, ?, ?)", PRODUCTS)
        for username, name, password in BUYERS:
            conn.execute("INSERT OR IGNORE INTO buyers VALUES (?, ?, ?)", (username, name, generate_password_hash(password)))
        conn.execute("INSERT OR IGNORE INTO orders VALUES ('A1001', 'alice', 'p1', ?, ?)", (STATUSES[1], int(time.time())))
        conn.commit()
        buyers = conn.execute("SELECT username, display_name FROM buyers").fetchall()
        conn.close()
        # user sync: every buyer exists in Semot before they ever talk to an agent
        try:
            semot.upsert_user(SHOP_ACCOUNT, display_name="Semot 小店")
            # external: buyers are customers, limited to customer service (not the staff directory)
            semot.bulk_upsert_users([{"user_id": semot_user(u), "display_name": n, "external": True} for u, n in buyers])
        except (ServerAPIError, OSError) as exc:
            log.warning("could not sync the buyers to Semot (%s); they are synced again at their next sign-in", exc)

    seed()

    def buyer() -> sqlite3.Row | None:
        name = session.get("buyer")
        return db().execute("SELECT * FROM buyers WHERE username = ?", (name,)).fetchone() if name else None

    def product_card(p: sqlite3.Row) -> dict[str, Any]:
        return {"type": "product", "title": p["name"], "price": f"¥{p['price']}",
                "url": url_for("product", pid=p["id"], _external=True),
                "image_url": url_for("static", filename=p["image"], _external=True)}

    def order_card(o: sqlite3.Row, p: sqlite3.Row) -> dict[str, Any]:
        return {"type": "order", "title": p["name"], "order_no": o["order_no"], "status": o["status"],
                "price": f"¥{p['price']}", "url": url_for("orders", _external=True),
                "image_url": url_for("static", filename=p["image"], _external=True)}

    def order_message(o: sqlite3.Row, p: sqlite3.Row) -> dict[str, Any]:
        """The order card as a message: the web client's app card (title, label/value lines,
        a link; web/app/bridge/card.js) with the order's own fields beside it, which the
        widget's card shows (picture, price, order number, status)."""
        card = order_card(o, p)
        return {**card, "title": f"订单 {o['order_no']} {o['status']}",
                "fields": [{"label": "商品", "value": p["name"]}, {"label": "金额", "value": card["price"]},
                           {"label": "状态", "value": o["status"]}],
                "app": {"title": "Semot 小店", "origin": request.host_url.rstrip("/")}}

    @app.context_processor
    def common() -> dict[str, Any]:
        b = buyer()
        return {"me": b, "semot_public": public, "semot_uid": semot_user(b["username"]) if b else "", "lang": lang}

    @app.get("/")
    def index() -> str:
        return render_template("index.html", products=db().execute("SELECT * FROM products ORDER BY id").fetchall())

    @app.get("/product/<pid>")
    def product(pid: str) -> str:
        p = db().execute("SELECT * FROM products WHERE id = ?", (pid,)).fetchone()
        if p is None:
            abort(404)
        return render_template("product.html", p=p, card=product_card(p))

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = ""
        if request.method == "POST":
            username = request.form.get("username", "").strip()
            row = db().execute("SELECT * FROM buyers WHERE username = ?", (username,)).fetchone()
            if row is None or not check_password_hash(row["password_hash"], request.form.get("password", "")):
                error = "用户名或密码错误"
            else:
                session["buyer"] = username
                try:  # keep Semot's copy current (a new buyer, a changed name)
                    semot.upsert_user(semot_user(username), display_name=row["display_name"], external=True)
                except (ServerAPIError, OSError) as exc:
                    log.warning("syncing %s to Semot failed: %s", username, exc)
                return redirect(safe_next(request.args.get("next")))
        return render_template("login.html", error=error)

    @app.post("/logout")
    def logout() -> Any:
        session.pop("buyer", None)
        return redirect("/")

    @app.post("/semot/ticket")
    def ticket() -> Any:
        """A single-use SSO ticket for the signed-in buyer: the widget trades it for a Semot
        login (SemotWidget.login). Same-origin only: a POST with the shop's session cookie."""
        b = buyer()
        if b is None:
            return jsonify({"error": "not signed in"}), 401
        return jsonify({"ticket": semot.sso_ticket(semot_user(b["username"]))["ticket"],
                        "user_id": semot_user(b["username"])})

    @app.get("/messages")
    def messages() -> Any:
        """Semot's web client, signed in as this buyer (the ticket travels in the URL's fragment)."""
        b = buyer()
        if b is None:
            return redirect(url_for("login", next="/messages"))
        url = semot.sso_ticket(semot_user(b["username"]))["url"]
        # the ticket URL is built from the address the shop calls Semot at; browsers may use another
        return redirect(public + url[url.index("/#/"):] if "/#/" in url else url)

    @app.get("/orders")
    def orders() -> Any:
        b = buyer()
        if b is None:
            return redirect(url_for("login", next="/orders"))
        rows = db().execute(
            "SELECT o.*, p.name, p.price, p.image FROM orders o JOIN products p ON p.id = o.product_id "
            "WHERE o.buyer = ? ORDER BY o.created_at DESC", (b["username"],)).fetchall()
        cards = {r["order_no"]: order_card(r, db().execute("SELECT * FROM products WHERE id = ?", (r["product_id"],)).fetchone())
                 for r in rows}
        return render_template("orders.html", orders=rows, cards=cards)

    @app.post("/buy/<pid>")
    def buy(pid: str) -> Any:
        b = buyer()
        if b is None:
            return redirect(url_for("login", next=f"/product/{pid}"))
        if db().execute("SELECT 1 FROM products WHERE id = ?", (pid,)).fetchone() is None:
            abort(404)
        order_no = f"A{int(time.time() * 1000) % 10**8:08d}"
        db().execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", (order_no, b["username"], pid, STATUSES[0], int(time.time())))
        db().commit()
        return redirect(url_for("orders"))

    # --- the shop's staff: HTTP basic auth with the staff password (the order page sends
    # cards as the shop's account; /events shows webhook bodies, i.e. chat text)
    def staff_only() -> Response | None:
        auth = request.authorization
        given = auth.password if auth is not None and auth.type == "basic" and auth.password else ""
        if staff_password and hmac.compare_digest(given.encode(), staff_password.encode()):
            return None
        return Response("staff only", 401, {"WWW-Authenticate": 'Basic realm="shop staff", charset="UTF-8"'})

    @app.before_request
    def guard_staff() -> Response | None:
        path = request.path
        if path == "/events" or path == "/staff" or path.startswith("/staff/"):
            return staff_only()
        return None

    @app.get("/staff")
    def staff() -> str:
        rows = db().execute("SELECT o.*, p.name FROM orders o JOIN products p ON p.id = o.product_id "
                            "ORDER BY o.created_at DESC").fetchall()
        return render_template("staff.html", orders=rows, statuses=STATUSES)

    @app.post("/staff/orders/<order_no>/status")
    def set_status(order_no: str) -> Any:
        status = request.form.get("status", "")
        if status not in STATUSES:
            abort(400)
        o = db().execute("SELECT * FROM orders WHERE order_no = ?", (order_no,)).fetchone()
        if o is None:
            abort(404)
        db().execute("UPDATE orders SET status = ? WHERE order_no = ?", (status, order_no))
        db().commit()
        o = db().execute("SELECT * FROM orders WHERE order_no = ?", (order_no,)).fetchone()
        p = db().execute("SELECT * FROM products WHERE id = ?", (o["product_id"],)).fetchone()
        uid = semot_user(o["buyer"])
        try:
            # a card in the buyer's chat with the shop (kept, on every device) ...
            semot.send_message(SHOP_ACCOUNT, uid, "custom", {"type": "app_card", "data": order_message(o, p)},
                               cid=f"order-{order_no}-{STATUSES.index(status)}")
            # ... and a live notification to the devices online now (not stored)
            semot.notify({"type": "order_status", "order_no": order_no, "status": status}, users=[uid])
        except (ServerAPIError, OSError) as exc:
            log.warning("telling %s about order %s failed: %s", uid, order_no, exc)
        return redirect(url_for("staff"))

    # --- webhooks from Semot
    @app.post("/semot/webhook")
    def webhook() -> Any:
        raw = request.get_data()
        want = "sha256=" + hmac.new(webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
        if not webhook_secret or not hmac.compare_digest(request.headers.get("X-Semot-Signature", ""), want):
            return jsonify({"error": "bad signature"}), 401
        try:
            body = json.loads(raw)
        except ValueError:
            return jsonify({"error": "not JSON"}), 400
        # de-duplicated by the delivery id: a retry of the same delivery is stored once
        db().execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?)",
                     (str(body.get("id")), str(body.get("event")), int(time.time()), raw.decode()))
        db().commit()
        log.info("webhook %s %s", body.get("event"), body.get("id"))
        return jsonify({})

    @app.get("/events")
    def events() -> Any:
        rows = db().execute("SELECT * FROM events ORDER BY received_at DESC, id LIMIT 200").fetchall()
        if request.args.get("format") == "json":
            return jsonify([{"id": r["id"], "event": r["event"], "body": json.loads(r["body"])} for r in rows])
        return render_template("events.html", events=rows)

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description="A sample shop using Semot's customer service.")
    ap.add_argument("--semot", default=os.environ.get("SHOP_SEMOT_URL", "http://127.0.0.1:8080"),
                    help="where the shop calls Semot's server API")
    ap.add_argument("--public-semot", default=os.environ.get("SHOP_SEMOT_PUBLIC_URL"),
                    help="Semot's address as browsers reach it (default: --semot)")
    ap.add_argument("--key", default=os.environ.get("SHOP_SEMOT_KEY", ""), help="a server API key (semot apikey create)")
    ap.add_argument("--webhook-secret", default=os.environ.get("SHOP_WEBHOOK_SECRET", ""),
                    help="the secret Semot showed when the webhook was registered")
    ap.add_argument("--db", default=os.environ.get("SHOP_DB", str(HERE / "shop.db")))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5000)
    ap.add_argument("--lang", default="zh-CN", choices=["zh-CN", "en"])
    ap.add_argument("--staff-password", default=os.environ.get("SHOP_STAFF_PASSWORD", ""),
                    help="the password (any user name) of /staff and /events; without it they are closed")
    ap.add_argument("--secure-cookies", action="store_true", default=os.environ.get("SHOP_SECURE_COOKIES") == "1",
                    help="served over https: the session cookie is sent over https only")
    args = ap.parse_args()
    if not args.key:
        ap.error("--key is required: create one with `semot apikey create --name shop`")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(semot_url=args.semot, api_key=args.key, public_semot_url=args.public_semot, db_path=args.db,
                     webhook_secret=args.webhook_secret, lang=args.lang, staff_password=args.staff_password,
                     secure_cookies=args.secure_cookies, secret_key=os.environ.get("SHOP_SECRET_KEY"))
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
