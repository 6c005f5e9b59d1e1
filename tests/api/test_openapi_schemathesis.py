"""/openapi.json is the truth: schemathesis, every check, against the real server.

Integrators generate clients from the document, so every operation is run through
schemathesis (examples, coverage and fuzzing phases, then stateful sequences that feed
one reply's ids into the next call) with all of its checks: schema-valid requests are
accepted, invalid ones refused with 4xx, every reply (status, content type, headers,
body) is what the document says, undeclared methods get 405 with a truthful Allow, and
a missing token is a 401. The server runs with SEMOT_VALIDATE_REPLIES, so a reply that
strays from its model is a 500 here even where schemathesis would not look.

/api/v1 runs as a user, /api/admin/v1 as an administrator (`semot create-admin`). The
generated path parameters are mostly ids nobody has; seeded ids (a group, a friend, a
tag, a department, requests) are added to the document as examples so the examples
and stateful phases reach the real logic. Bounded: a few examples per operation.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import Case, engine
from schemathesis.engine import Status, events
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from tests.support.server import ServerProcess

PASSWORD = "correct-horse-9"
HISTORY = "/api/v1/conversations/{conv}/messages"
ADMIN_USER = "/api/admin/v1/users/{user_id}"
LOGOUT = "/api/v1/auth/logout"
SEED = 20261130
MAX_EXAMPLES = 30  # per operation and phase: the whole file takes about 2 minutes on 2 cores
ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
# what negative_data_rejection accepts by default as a refusal
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # positive_data_acceptance's default
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]
# tus bodies (application/offset+octet-stream) are plain bytes
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass
class World:
    """The server, who plays which role, and real ids for the path parameters."""

    server: ServerProcess
    http: requests.Session
    user: str
    admin: str
    victim: str  # the only account the admin operations may disable or promote
    examples: dict[str, list[str]] = field(default_factory=dict)

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = self.http.request(method, self.server.base + path, json=body, headers=headers, timeout=30)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json()

    def account(self, username: str) -> tuple[str, str]:
        self.call("POST", "/api/v1/auth/register", {"username": username, "password": PASSWORD})
        return self.login(username)

    def login(self, username: str) -> tuple[str, str]:
        r = self.call("POST", "/api/v1/auth/login", {"username": username, "password": PASSWORD})
        return r["user_id"], r["access_token"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = ServerProcess(tmp_path_factory.mktemp("schemathesis") / "data").start()
    try:
        with requests.Session() as http:
            yield _seed(server, http)
    finally:
        assert server.stop() == 0, Path(server.log_path).read_text()[-3000:]
    log = Path(server.log_path).read_text()
    assert "Traceback" not in log and "does not match its declaration" not in log, log[-3000:]


def _seed(server: ServerProcess, http: requests.Session) -> World:
    admin_name = _unique("adm")
    made = subprocess.run(
        [sys.executable, "-m", "semot", "create-admin", admin_name, "--password", PASSWORD,
         "--data-dir", str(server.data_dir)],
        env=server.env, capture_output=True, text=True, timeout=60,
    )
    assert made.returncode == 0, made.stderr
    w = World(server, http, _unique("st"), admin_name, _unique("victim"))
    me, token = w.account(w.user)
    friend, friend_token = w.account(_unique("friend"))
    asker, asker_token = w.account(_unique("asker"))
    w.account(w.victim)
    _, admin_token = w.login(admin_name)
    # a friend (no approval needed), a pending request to me, a tag, a group with a join request
    w.call("PATCH", "/api/v1/me/settings", {"friend_approval": False}, friend_token)
    w.call("POST", "/api/v1/friends/requests", {"user_id": friend}, token)
    pending = w.call("POST", "/api/v1/friends/requests", {"user_id": me, "message": "hi"}, asker_token)
    tag = w.call("POST", "/api/v1/contacts/tags", {"name": "team", "members": [friend]}, token)
    group = w.call("POST", "/api/v1/groups", {"name": "Schemathesis", "members": [friend]}, token)
    join = w.call("POST", f"/api/v1/groups/{group['group_id']}/join", {"message": "let me in"}, asker_token)
    dept = w.call("POST", "/api/admin/v1/departments", {"name": "Fuzzing"}, admin_token)
    w.call("PUT", f"/api/admin/v1/departments/{dept['department_id']}/members/{friend}", {"title": "QA"}, admin_token)
    lo, hi = sorted((me, friend), key=str.encode)
    w.examples = {
        "user_id": [friend, asker],
        "group_id": [group["group_id"]],
        "request_id": [r for r in (pending["request_id"], join["request_id"]) if r],
        "tag_id": [tag["tag_id"]],
        "department_id": [dept["department_id"]],
        "conv": [f"d:{lo}:{hi}", group["conv"]],
    }
    return w


def _config(w: World, username: str) -> schemathesis.Config:
    config = schemathesis.Config.from_dict({
        "base-url": w.server.base,
        "seed": SEED,
        "workers": 1,
        "phases": {"stateful": {"max-steps": 15}},
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        # tus (/api/v1/files/) refuses a wrong Tus-Resumable with 412 and a size over the limit with 413; what no
        # schema can say: a body longer than Upload-Length (413), a checksum of other bytes (460)
        "checks": {"negative_data_rejection": {"expected-statuses": [*REJECTED, "412", "413"]},
                   "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "413", "460"]}},
        # DELETE /groups/{id} dismisses a group: it stays readable to its former members (docs/protocol.md, Groups)
        "operations": [{"include-path-regex": "^/api/v1/groups/\\{group_id\\}", "include-method": "GET",
                        "checks": {"use_after_free": {"enabled": False}}}],
        # a token fetched on demand, and again after a 401: a `logout` case may end the current login
        "auth": {"dynamic": {"openapi": {"bearer": {
            "path": "/api/v1/auth/login", "payload": {"username": username, "password": PASSWORD},
            "extract_selector": "/access_token",
        }}}},
    })
    return config


def _with_examples(doc: dict[str, Any], w: World) -> dict[str, Any]:
    for ops in doc["paths"].values():
        for op in ops.values():
            for p in op.get("parameters", []):
                if p["in"] == "path" and p["name"] in w.examples:
                    p["examples"] = {f"seeded{i}": {"value": v} for i, v in enumerate(w.examples[p["name"]])}
    return doc


def prepare(case: Case[Any], w: World) -> None:
    """What the document cannot say, and what must not happen to the test's own accounts."""
    op = case.operation
    both = op.path == HISTORY and case.query and "after" in case.query and "before" in case.query
    if both and (case.meta is None or case.meta.generation.mode.is_positive):
        del case.query["before"]  # documented: one of after / before
    if op.path == ADMIN_USER and op.method.upper() == "PATCH":
        uid = case.path_parameters.get("user_id") if case.path_parameters else None
        if isinstance(uid, str) and 0 < len(uid) <= 64 and set(uid) <= ID_CHARS:
            case.path_parameters["user_id"] = w.victim  # never disable the user or the admin running the test


def _run(w: World, admin: bool) -> list[str]:
    """Every phase and every check, as `schemathesis run --checks all`; the failures found."""
    doc = _with_examples(w.http.get(w.server.base + "/openapi.json", timeout=30).json(), w)
    loaded = schemathesis.openapi.from_dict(doc, config=_config(w, w.admin if admin else w.user))
    schema = loaded.include(path_regex="^/api/admin/") if admin else loaded.exclude(path_regex="^/api/admin/")

    def before_call(context: schemathesis.HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
        prepare(case, w)

    found: dict[str, str] = {}
    tested = 0
    schemathesis.hook(before_call)  # only a global hook sees every call; removed below
    try:
        run = list(engine.from_schema(schema).execute())
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(before_call)
    for event in run:
        if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            tested += len(event.recorder.cases)
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    if node.status == Status.FAILURE and node.failure_info is not None:
                        failure = node.failure_info.failure
                        key = f"{event.recorder.label}: {failure.title}"
                        found.setdefault(key, f"{key}\n{failure.message}\n{node.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError):
            found.setdefault(f"error {event.label}", f"error in {event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            found.setdefault("fatal", f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            found.update({f"after run {i}": str(f) for i, f in enumerate(event.failures)})
    assert tested > 100, f"only {tested} cases ran"
    return list(found.values())


@pytest.mark.timeout(300)  # about 100 s each on 2 busy cores: the default 120 s is too close
@pytest.mark.parametrize("admin", [False, True], ids=["user /api/v1", "admin /api/admin/v1"])
def test_schemathesis_finds_nothing(world: World, admin: bool) -> None:
    failures = _run(world, admin)
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", "/api/v1/me", "GET, PATCH"),
        ("PUT", "/api/v1/groups", "GET, POST"),
        ("DELETE", "/api/v1/friends/requests", "POST"),  # not DELETE /friends/{user_id} for a user "requests"
        ("PATCH", "/api/v1/groups/search", "GET"),
        ("POST", "/api/admin/v1/users/someone", "GET, PATCH"),
    ],
)
def test_undeclared_methods_are_405_with_allow(world: World, method: str, path: str, allow: str) -> None:
    r = world.http.request(method, world.server.base + path, timeout=30)
    assert r.status_code == 405 and r.headers["Allow"] == allow, (r.status_code, r.headers.get("Allow"), r.text)
    assert r.json()["error"]["code"] == "bad_request" and method in r.json()["error"]["message"]
