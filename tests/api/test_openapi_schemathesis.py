"""/openapi.json is the truth: schemathesis, every check, against the real server.

Integrators generate clients from the document, so every operation is run through
schemathesis (examples, coverage and fuzzing phases, then stateful sequences that feed
one reply's ids into the next call) with all of its checks: schema-valid requests are
accepted, invalid ones refused with 4xx, every reply (status, content type, headers,
body) is what the document says, undeclared methods get 405 with a truthful Allow, and
a missing token is a 401. The server runs with SEMOT_VALIDATE_REPLIES, so a reply that
strays from its model is a 500 here even where schemathesis would not look.

/api/v1 runs as a user, /api/admin/v1 as an administrator (`semot create-admin`), in
parts (PARTS) so that no run nears the timeout. The generated path parameters are
mostly ids nobody has; seeded ids (a group, a friend, a tag, a department, requests)
are added to the document as examples so the examples and stateful phases reach the
real logic. Bounded: a few examples per operation.
"""

from __future__ import annotations

import re
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
from schemathesis.core.result import Ok
from schemathesis.engine import Status, events
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from tests.support.server import ServerProcess

PASSWORD = "correct-horse-9"
HISTORY = "/api/v1/conversations/{conv}/messages"
ADMIN_USER = "/api/admin/v1/users/{user_id}"
ADMIN_BULK = "/api/admin/v1/users/bulk"
ADMIN_GRANT = "/api/admin/v1/admins/{user_id}"  # granting / revoking: only the victim's rights change
SERVER_USER = "/api/server/v1/users/{user_id}"
SERVER_BULK = "/api/server/v1/users:bulk"
LOGOUT = "/api/v1/auth/logout"
SEED = 20261130
MAX_EXAMPLES = 30  # per operation and phase (Part.max_examples): the file takes 2.5-5 minutes on 2 busy cores
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
    server_key: str = ""  # a server API key with every scope (the /api/server/v1 part)

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
        [
            sys.executable,
            "-m",
            "semot",
            "create-admin",
            admin_name,
            "--password",
            PASSWORD,
            "--data-dir",
            str(server.data_dir),
        ],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
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
    role = w.call("POST", "/api/admin/v1/roles", {"name": "Fuzzing role", "perms": ["org.view"]}, admin_token)
    w.server_key = w.call("POST", "/api/admin/v1/api-keys", {"name": "Fuzzing key"}, admin_token)["key"]
    lo, hi = sorted((me, friend), key=str.encode)
    w.examples = {
        "user_id": [friend, asker],
        "group_id": [group["group_id"]],
        "request_id": [r for r in (pending["request_id"], join["request_id"]) if r],
        "tag_id": [tag["tag_id"]],
        "department_id": [dept["department_id"]],
        "role_id": [role["role_id"]],
        "conv": [f"d:{lo}:{hi}", group["conv"]],
    }
    return w


def _config(w: World, username: str, max_examples: int = MAX_EXAMPLES) -> schemathesis.Config:
    config = schemathesis.Config.from_dict(
        {
            "base-url": w.server.base,
            "seed": SEED,
            "workers": 1,
            "phases": {"stateful": {"max-steps": 15}},
            "generation": {"max-examples": max_examples, "database": "none"},
            # tus (/api/v1/files/) refuses a wrong Tus-Resumable with 412 and a size over the limit with 413; what no
            # schema can say: a body longer than Upload-Length (413), a checksum of other bytes (460)
            "checks": {
                "negative_data_rejection": {"expected-statuses": [*REJECTED, "412", "413"]},
                "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "413", "460"]},
            },
            # Two include-* keys in one entry are OR-ed (an include-method: GET would match every GET), so the
            # method is narrowed with an exclude-method-regex (excludes are AND-ed).
            # DELETE /groups/{id} dismisses a group: it stays readable to its former members (docs/protocol.md, Groups)
            # and to administrators (docs/admin.md, Groups)
            "operations": [
                {
                    "include-path-regex": "^/api(/admin)?/v1/groups/\\{group_id\\}",
                    "exclude-method-regex": "^(?!GET$)",
                    "checks": {"use_after_free": {"enabled": False}},
                },
                # the user import's body is a CSV or XLSX file with a username column: no schema says it,
                # so a made-up body is a file that cannot be read (400), not a server fault
                {
                    "include-path-regex": "^/api/admin/v1/users/import(-jobs)?$",
                    "exclude-method-regex": "^(?!POST$)",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400", "413"]}},
                },
                # the directory import's `text` is a CSV or JSON file's text with rows in it: a made-up
                # string is not valid JSON, or has no rows (400)
                {
                    "include-path-regex": "^/api/admin/v1/directory/import$",
                    "exclude-method-regex": "^(?!POST$)",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
                },
                # a sensitive word made only of separators (Unicode punctuation, symbols, spaces) has nothing
                # to match: no JSON Schema pattern can name those classes in both regex dialects (400)
                {
                    "include-path-regex": "^/api/admin/v1/sensitive-words$",
                    "exclude-method-regex": "^(?!POST$)",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
                },
                # what a JSON Schema cannot say, each answered with a clear 400: a message search needs a
                # keyword or a filter (an empty `q` alone narrows nothing); a server-sent message's `body`
                # depends on its `kind` (validated as a WebSocket send's); an API key's `allow_ips` are CIDR
                # networks (IPv4 or IPv6) and its `expires_at` lies in the future
                {
                    "include-path-regex": "^/api/v1/messages/search$",
                    "exclude-method-regex": "^(?!GET$)",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
                },
                {
                    "include-path-regex": "^/api/server/v1/messages$",
                    "exclude-method-regex": "^(?!POST$)",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
                },
                {
                    "include-path-regex": "^/api/admin/v1/api-keys(/\\{key_id\\})?$",
                    "exclude-method-regex": "^(?!(POST|PATCH)$)",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
                },
            ],
            # a token fetched on demand, and again after a 401: a `logout` case may end the current login
            # the server API (/api/server/v1, scheme server_key): a key with every scope
            "auth": {
                "openapi": {"server_key": {"bearer": w.server_key}},
                "dynamic": {
                    "openapi": {
                        "bearer": {
                            "path": "/api/v1/auth/login",
                            "payload": {"username": username, "password": PASSWORD},
                            "extract_selector": "/access_token",
                        }
                    }
                }
            },
        }
    )
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
    if (op.path == ADMIN_USER and op.method.upper() == "PATCH") or op.path == ADMIN_GRANT:
        uid = case.path_parameters.get("user_id") if case.path_parameters else None
        if isinstance(uid, str) and 0 < len(uid) <= 64 and set(uid) <= ID_CHARS:
            case.path_parameters["user_id"] = w.victim  # never disable the user or the admin running the test
    if op.path == SERVER_USER and op.method.upper() == "PUT" and case.path_parameters:
        uid = case.path_parameters.get("user_id")
        if uid in (w.user, w.admin, *w.examples.get("user_id", [])):
            case.path_parameters["user_id"] = w.victim  # an upsert may disable or re-password a user
    if op.path == SERVER_BULK and isinstance(case.body, dict) and isinstance(case.body.get("users"), list):
        for item in case.body["users"]:  # the same for the server API's bulk upsert
            if isinstance(item, dict) and item.get("user_id") in (w.user, w.admin, *w.examples.get("user_id", [])):
                item["user_id"] = w.victim
    body = case.body if op.path == ADMIN_BULK and isinstance(case.body, dict) else {}
    ids = body.get("user_ids")
    if isinstance(ids, list):  # a bulk disable: never the test's own accounts either
        body["user_ids"] = [w.victim if u in (w.user, w.admin) else u for u in ids]


def _run(w: World, part: Part) -> list[str]:
    """Every phase and every check, as `schemathesis run --checks all`; the failures found."""
    doc = _with_examples(w.http.get(w.server.base + "/openapi.json", timeout=30).json(), w)
    loaded = schemathesis.openapi.from_dict(
        doc, config=_config(w, w.admin if part.admin else w.user, part.max_examples)
    )
    # exclude(), not include(): with `operations` in the config the loaded schema already has an include
    # filter that matches everything, and include filters are OR-ed (schemathesis 4: every operation ran)
    wanted = re.compile(part.regex or "^(?!/api/(admin|server)/)")
    schema = loaded.exclude(func=lambda ctx: not wanted.search(ctx.operation.path))
    selected = {op.ok().path for op in schema.get_all_operations() if isinstance(op, Ok)}
    assert selected and all(wanted.search(path) for path in selected), selected

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
    assert tested > part.min_cases, f"only {tested} cases ran"
    return list(found.values())


@dataclass(frozen=True)
class Part:
    """One run: the user API, or the operations of the admin (or server) API whose path matches `regex`."""

    name: str
    admin: bool
    regex: str = ""
    min_cases: int = 100  # fewer cases ran: something stopped the run early
    max_examples: int = MAX_EXAMPLES


ADMIN = "^/api/admin/v1/"
# the user API in parts (it outgrew one run's timeout): the social graph, customer service, the rest
USER_SOCIAL = "(groups|contacts|friends|blacklist|directory|users|presence)(/|$)"
CLIENT_CONFIG = "/api/admin/v1/client-config"
# The admin API in parts, each well under the timeout on 2 busy cores; together they cover it
# (test_the_parts_cover_the_admin_api). Measured on 2 cores, idle / busy (load 6): the user API
# 83 / 140 s; admin users 30 / 50 s, org 35 / 45 s, the rest 25 s, client configuration 6 s.
# The admin API is new: twice the examples. Client configuration comes last, and is put back as
# it was after its part: a fuzzed PUT switches features off (files, groups, friends),
# self-registration and direct messages, which would refuse valid requests of any run after it.
PARTS = [
    Part("user groups contacts", admin=False, regex="^/api/v1/" + USER_SOCIAL),
    Part("user rest", admin=False, regex=f"^(?!/api/(admin|server)/|/api/v1/cs/|/api/v1/{USER_SOCIAL})"),
    Part("user customer service", admin=False, regex="^/api/v1/cs/", min_cases=30),  # its own run: time
    Part("server /api/server/v1", admin=False, regex="^/api/server/v1/", min_cases=50, max_examples=60),
    Part("admin users", admin=True, regex=ADMIN + "users(/|$)", max_examples=60),
    Part("admin org", admin=True, regex=ADMIN + "(groups|departments|directory)(/|$)", max_examples=60),
    Part(
        "admin roles logs devtools",
        admin=True,
        regex=ADMIN
        + "(me|permissions|roles|admins|audit-log|login-logs(\\.csv)?|dashboard|protocol-log|client-errors)(/|$)",
        max_examples=60,
    ),
    Part(
        "admin compliance",
        admin=True,
        regex=ADMIN + "(messages|conversations|sensitive-words|sensitive-hits|moderation|retention|legal-holds|api-keys|api-calls|webhooks|webhook-deliveries|cs|sso)(/|\\.|$)",
        max_examples=40,
    ),
    Part("admin ldap", admin=True, regex=ADMIN + "ldap(/|$)", min_cases=30, max_examples=40),  # LDAP off: 409s
    Part("admin client-config", admin=True, regex=ADMIN + "client-config$", min_cases=50, max_examples=60),
]


@pytest.mark.timeout(200)  # each part takes 150 s or less on 2 busy cores: the default 120 s is too close
@pytest.mark.parametrize("part", PARTS, ids=[p.name for p in PARTS])
def test_schemathesis_finds_nothing(world: World, part: Part) -> None:
    restore = part.admin and re.search(part.regex, CLIENT_CONFIG) is not None
    saved = world.call("GET", CLIENT_CONFIG, token=world.login(world.admin)[1])["config"] if restore else None
    try:
        failures = _run(world, part)
    finally:
        if saved is not None:
            token = world.login(world.admin)[1]
            world.call("PUT", CLIENT_CONFIG, saved, token)
            assert world.call("GET", CLIENT_CONFIG, token=token)["config"] == saved
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)


def test_the_overrides_are_narrow(world: World) -> None:
    """Each `operations` entry of the config reaches the operations its comment names, no others."""
    doc = world.http.get(world.server.base + "/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(doc, config=_config(world, world.admin))
    no_uaf, with_400 = set(), set()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        op = result.ok()
        checks = schema.config.operations.get_for_operation(op).checks
        if checks.use_after_free.enabled is False:
            no_uaf.add(f"{op.method.upper()} {op.path}")
        if "400" in (checks.positive_data_acceptance.expected_statuses or []):
            with_400.add(f"{op.method.upper()} {op.path}")
    assert no_uaf and all(o.startswith("GET ") and "/groups/{group_id}" in o for o in no_uaf), no_uaf
    assert with_400 == {
        "POST /api/admin/v1/users/import",
        "POST /api/admin/v1/users/import-jobs",
        "POST /api/admin/v1/directory/import",
        "POST /api/admin/v1/sensitive-words",
        "GET /api/v1/messages/search",
        "POST /api/server/v1/messages",
        "POST /api/admin/v1/api-keys",
        "PATCH /api/admin/v1/api-keys/{key_id}",
    }, with_400


def test_the_parts_cover_the_admin_api(world: World) -> None:
    paths = world.http.get(world.server.base + "/openapi.json", timeout=30).json()["paths"]
    admin = [p for p in paths if p.startswith("/api/admin/")]
    for path in admin:
        matched = [part.name for part in PARTS if part.admin and re.search(part.regex, path)]
        assert len(matched) == 1, (path, matched)
    for path in (p for p in paths if not p.startswith("/api/admin/")):  # and the user and server APIs
        matched = [part.name for part in PARTS if not part.admin and re.search(part.regex, path)]
        assert len(matched) == 1, (path, matched)


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
