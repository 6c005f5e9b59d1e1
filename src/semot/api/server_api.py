"""The server API for integrators (PROTOCOL.md §4, docs/integration.md): `/api/server/v1`,
authenticated with a server API key (`Route(auth="server", perm=<scope>)`, checked by
api/server_auth.py; every call is in the API call log).

Users of the integrator's own user system are upserted by id (`PUT users/{user_id}`),
get an access token or a single-use SSO ticket (`POST users/{user_id}/tokens`), and are
seen online or not (`GET users/{user_id}/presence`). Messages are sent as a user through
the same path as a client's `send` (MessageService.prepare/submit: sensitive words, the
before-send hook and pre-moderation apply). Notifications are pushed as `evt notify`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema
from typing_extensions import TypeAliasType

from semot.domain.messages import BODY_MODELS, MEDIA_KINDS
from semot.errors import BadRequest, Conflict, Forbidden, NotFound, SemotError, Unavailable
from semot.ids import new_mid
from semot.protocol.events import NotifyEvent
from semot.services.api_keys import SSO_TICKET_TTL_S, ApiKeyService
from semot.services.client_ip import forwarded_https
from semot.services.customer_service import CustomerService
from semot.services.login_log import LoginAttempt
from semot.services.user_admin import UserAdmin

from .auth_http import request_ip
from .http import Call
from .models import ID_CHARS, NUL_FREE
from .routing import Query, Route, RouteTable, json_response

S = "/api/server/v1"
SSO_PATH = "/#/sso?ticket="
MAX_NOTIFY_USERS = 1000
MAX_BULK_USERS = 1000
MAX_NOTIFY_BYTES = 8192
UserId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=f"^{ID_CHARS}+$")]
DeptId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=f"^{ID_CHARS}+$")]
Text = Annotated[str, StringConstraints(max_length=256, pattern=NUL_FREE)]
# free-form JSON (a message body, a notification's data): any JSON without a NUL
# character in a key or a string (parse_body refuses those), said recursively
_NoNul = Annotated[str, StringConstraints(pattern=NUL_FREE)]
_OBJECT_SCHEMA: dict[str, Any] = {
    "type": "object", "propertyNames": {"pattern": NUL_FREE}, "additionalProperties": {"$ref": "#/components/schemas/NulFreeJson"},
}
if TYPE_CHECKING:  # mypy resolves no recursive alias through Annotated
    NulFreeJson = Any
else:
    NulFreeJson = TypeAliasType(
        "NulFreeJson",
        Union[bool, int, float, _NoNul, list["NulFreeJson"],  # noqa: UP007
              Annotated[dict[_NoNul, "NulFreeJson"], WithJsonSchema(_OBJECT_SCHEMA)], None],
    )
JsonObject = Annotated[dict[_NoNul, NulFreeJson], WithJsonSchema(_OBJECT_SCHEMA)]
KINDS = sorted({*BODY_MODELS, *MEDIA_KINDS})
_TO = f"^(g:{ID_CHARS}{{1,64}}|d:{ID_CHARS}{{1,64}}:{ID_CHARS}{{1,64}}|{ID_CHARS}{{1,64}})$"
# a user made here has its id as its username: 2-32 characters (services/accounts.check_username)
NEW_USER_ID = Query("a user id: 2-32 of A-Z a-z 0-9 _ . -", "string", max_length=32, min_length=2,
                    pattern=f"^{ID_CHARS}{{2,32}}$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class ServerUserUpsertIn(_In):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NUL_FREE)] | None = None
    disabled: bool | None = Field(None, description="true: the account cannot sign in and its logins end")
    password: Annotated[str, StringConstraints(min_length=8, max_length=256, pattern=NUL_FREE)] | None = Field(
        None, description="Optional: users of an integrator usually sign in by SSO ticket, without one"
    )
    department_id: DeptId | None = Field(None, description="On create only: the department to put the user in")
    title: Text | None = Field(None, description="With department_id: the user's title there")
    external: bool | None = Field(
        None, description="true: a customer of the integrator's site (e.g. a shop's buyer), not staff: limited to "
        "customer service like an anonymous visitor (no directory, profiles, groups, contacts, places or apps; no "
        "direct chat they open themselves); false: an ordinary user again (docs/customer-service.md)"
    )


class ServerBulkUserIn(ServerUserUpsertIn):
    user_id: Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=f"^{ID_CHARS}{{2,32}}$")] = Field(
        description="The integrator's own id of the user (becomes the Semot user_id and username)"
    )


class ServerBulkUsersIn(_In):
    users: Annotated[list[ServerBulkUserIn], Field(min_length=1, max_length=MAX_BULK_USERS)]


class ServerBulkResultOut(BaseModel):
    user_id: str
    status: Literal["created", "updated", "unchanged", "error"]
    code: str | None = Field(None, description="status error: the error code (as in an error reply)")
    message: str | None = Field(None, description="status error: what went wrong")


class ServerBulkUsersOut(BaseModel):
    results: list[ServerBulkResultOut] = Field(description="one per item, in the order given")


class ServerUserIdOut(BaseModel):
    user_id: str


class ServerTokensIn(_In):
    type: Literal["access", "sso_ticket"] = "access"


class ServerTokensOut(BaseModel):
    access_token: str | None = Field(None, description="type access: a bearer token for the client API and /ws")
    ticket: str | None = Field(None, description="type sso_ticket: the single-use ticket")
    url: str | None = Field(None, description="type sso_ticket: opening it in a browser signs the user in")
    expires_in: int = Field(description="seconds the token or ticket stays valid")


class ServerPresenceOut(BaseModel):
    user_id: str
    status: Literal["online", "offline", "busy", "away"]


class ServerMessageIn(_In):
    from_: UserId = Field(alias="from", description="The sender: the message is sent as this user")
    to: Annotated[str, StringConstraints(min_length=1, max_length=140, pattern=_TO)] = Field(
        description="A user_id (direct chat) or a conv (g:<group_id>, d:<a>:<b>), as in the `send` frame"
    )
    kind: Annotated[str, StringConstraints(pattern=f"^({'|'.join(KINDS)})$")] = Field(
        description=f"One of {', '.join(KINDS)}; the body as the `send` frame's for that kind (docs/protocol.md)"
    )
    body: JsonObject
    cid: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NUL_FREE)] | None = Field(
        None, description="Idempotency key per sender: a retry with the same cid returns the stored message"
    )
    opts: JsonObject | None = None


class ServerMessageOut(BaseModel):
    conv: str
    seq: int
    mid: str
    ts: int


class ServerNotifyIn(_In):
    # at least one recipient: a user or a department (else 400)
    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [{"anyOf": [
        {"required": ["users"], "properties": {"users": {"minItems": 1}}},
        {"required": ["departments"], "properties": {"departments": {"minItems": 1}}},
    ]}]})

    users: Annotated[list[UserId], Field(max_length=MAX_NOTIFY_USERS)] = Field(
        default_factory=list, description="Users whose connected devices get the notification"
    )
    departments: Annotated[list[DeptId], Field(max_length=100)] = Field(
        default_factory=list, description="Extension: every member of these departments (and their sub-departments)"
    )
    data: JsonObject


class ServerEmptyOut(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _admin(call: Call) -> UserAdmin:
    ua = call.services.user_admin
    if ua is None:
        raise Unavailable("user administration is not available on this server")
    return ua


def keys(call: Call) -> ApiKeyService:
    svc = call.services.api_keys
    if svc is None:
        raise Unavailable("the server API is not available on this server")
    return svc


def _uid(call: Call) -> str:
    return call.request.match_info["user_id"]


UpsertStatus = Literal["created", "updated", "unchanged"]


async def upsert_user(ua: UserAdmin, uid: str, b: ServerUserUpsertIn, cs: CustomerService | None = None) -> UpsertStatus:
    """PUT users/{user_id} and each item of users:bulk: create the user, or change what
    differs. A password given counts as a change (it is not compared with the stored hash).
    `external` is marked before the user is made: a customer is never unrestricted."""
    marked = False
    if b.external is not None:
        if cs is None:
            raise Unavailable("customer service is not available on this server")
        marked = await cs.set_customer(uid, b.external)
    try:
        user = await ua.get(uid)
    except NotFound:
        try:
            user = await ua.create(uid, b.password, b.display_name, department_id=b.department_id, title=b.title)
            if b.disabled:
                await ua.set_disabled(uid, True)
            return "created"
        except Conflict:  # created meanwhile by a concurrent call: update it
            user = await ua.get(uid)
    changed = marked
    if b.display_name is not None:
        before = user.display_name
        user = await ua.set_display_name(user, b.display_name)
        changed = user.display_name != before
    if b.password is not None:
        await ua.set_password(uid, b.password)
        changed = True
    if b.disabled is not None and b.disabled != user.disabled:
        await ua.set_disabled(uid, b.disabled)
        changed = True
    return "updated" if changed else "unchanged"


async def put_user(call: Call) -> web.Response:
    created = await upsert_user(_admin(call), _uid(call), call.body, call.services.customer_service) == "created"
    return json_response({"user_id": _uid(call)}, 201 if created else 200)


async def bulk_users(call: Call) -> dict[str, Any]:
    """Each item on its own (one failing item does not undo the others), in order."""
    b: ServerBulkUsersIn = call.body
    ua = _admin(call)
    results: list[dict[str, Any]] = []
    for item in b.users:
        try:
            status = await upsert_user(ua, item.user_id, item, call.services.customer_service)
            results.append({"user_id": item.user_id, "status": status})
        except SemotError as exc:
            results.append({"user_id": item.user_id, "status": "error", "code": exc.code, "message": exc.message})
    return {"results": results}


def public_base(call: Call) -> str:
    """Where users open the web client: the public_url setting, else this request's
    scheme and Host."""
    s = call.services.settings
    if s.public_url:
        return s.public_url.rstrip("/")
    req = call.request
    https = req.secure or forwarded_https(req.remote, req.headers.get("X-Forwarded-Proto"), s.trusted_proxies)
    return f"{'https' if https else 'http'}://{req.host}"


async def user_tokens(call: Call) -> dict[str, Any]:
    b: ServerTokensIn = call.body
    uid = _uid(call)
    if b.type == "sso_ticket":
        user = await _admin(call).get(uid)
        if user.disabled:
            raise Forbidden("this account is disabled")
        ticket = await keys(call).issue_ticket(uid)
        return {"ticket": ticket, "url": public_base(call) + SSO_PATH + ticket, "expires_in": SSO_TICKET_TTL_S}
    key = call.api_key
    attempt = LoginAttempt(uid, ip=request_ip(call.request, call.services.settings), method="server_api",
                           device=f"key:{key.id}" if key else "")
    pair = await call.services.accounts.login_as(uid, attempt)
    return {"access_token": pair.access_token, "expires_in": pair.expires_in}


async def user_presence(call: Call) -> dict[str, Any]:
    uid = _uid(call)
    await _admin(call).get(uid)  # 404 for nobody
    status, _ = await call.services.presence.status(uid)
    return {"user_id": uid, "status": status}


async def send_message(call: Call) -> web.Response | dict[str, Any]:
    b: ServerMessageIn = call.body
    sender = await _admin(call).get(b.from_)
    if sender.disabled:
        raise Forbidden(f"user {b.from_!r} is disabled")
    msgs = call.services.messages
    item = await msgs.prepare(b.from_, cid=b.cid or f"srv-{new_mid()}", to=b.to, kind=b.kind, body=b.body,
                              opts=b.opts, ip=None)
    res = await msgs.submit(item, None)
    m = res.message
    return {"conv": m.conv, "seq": m.seq, "mid": m.mid, "ts": m.ts}


async def notify(call: Call) -> dict[str, Any]:
    b: ServerNotifyIn = call.body
    if len(orjson.dumps(b.data)) > MAX_NOTIFY_BYTES:
        raise BadRequest(f"data: at most {MAX_NOTIFY_BYTES} bytes of JSON")
    if not b.users and not b.departments:
        raise BadRequest("users or departments: name at least one recipient")
    users = set(b.users)
    for dept in dict.fromkeys(b.departments):
        users |= await _admin(call).subtree(dept)  # 404 for an unknown department
    events = call.services.events
    if events is None:
        raise Unavailable("pushes are not available on this server")
    events.publish(sorted(users), NotifyEvent(data=b.data))
    return {}


def routes() -> RouteTable:
    t = RouteTable()
    tag = "server"
    t.add(Route("PUT", f"{S}/users/{{user_id}}", put_user,
                "Create (201) or update (200) a user of the integrator's user system", tag, ServerUserUpsertIn, ServerUserIdOut,
                auth="server", perm="users", responses={201: "Created"}, path_specs={"user_id": NEW_USER_ID}))
    t.add(Route("POST", f"{S}/users:bulk", bulk_users,
                f"Create or update up to {MAX_BULK_USERS} users, each as PUT users/{{user_id}} does; a result per item",
                tag, ServerBulkUsersIn, ServerBulkUsersOut, auth="server", perm="users"))
    t.add(Route("POST", f"{S}/users/{{user_id}}/tokens", user_tokens,
                "An access token for the user, or a single-use SSO ticket (60 s) whose url signs the user in",
                tag, ServerTokensIn, ServerTokensOut, auth="server", perm="users"))
    t.add(Route("GET", f"{S}/users/{{user_id}}/presence", user_presence, "The user's presence", tag, None,
                ServerPresenceOut, auth="server", perm="users"))
    t.add(Route("POST", f"{S}/messages", send_message,
                "Send a message as a user (content screening, before-send hook and pre-moderation apply)", tag,
                ServerMessageIn, ServerMessageOut, auth="server", perm="messages"))
    t.add(Route("POST", f"{S}/notifications", notify,
                "Push {t:evt, evt:notify, data} to the connected devices of users (and departments)", tag,
                ServerNotifyIn, ServerEmptyOut, auth="server", perm="notifications"))
    return t

