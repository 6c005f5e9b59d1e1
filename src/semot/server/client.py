"""The server API clients: `ServerClient` (blocking, urllib from the standard library) and
`AsyncServerClient` (aiohttp). Both build the same requests (`_Req`) and read replies the
same way; only the transport differs."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import aiohttp

PREFIX = "/api/server/v1"
R = TypeVar("R")


class ServerAPIError(Exception):
    """A call the server refused: `status` (HTTP), `code` (the wire error code, e.g.
    `not_found`, `forbidden`, `rate_limited`), `message` and `details`."""

    def __init__(self, status: int, code: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})


@dataclass(frozen=True)
class _Req(Generic[R]):
    method: str
    path: str
    body: Any
    result: Callable[[int, Any], R]


def _error(status: int, data: Any) -> ServerAPIError:
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return ServerAPIError(status, str(err.get("code", "error")), str(err.get("message", "")), err.get("details"))
    return ServerAPIError(status, "http_error", f"HTTP {status}")


def _seg(value: str) -> str:
    return quote(value, safe="")


def _reply(_: int, data: Any) -> dict[str, Any]:
    return dict(data)


def _nothing(_: int, __: Any) -> None:
    return None


def _fields(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


# --- the requests, one per endpoint (shared by both clients)
def _upsert_user(user_id: str, **fields: Any) -> _Req[bool]:
    return _Req("PUT", f"/users/{_seg(user_id)}", _fields(**fields), lambda status, _: status == 201)


def _bulk(users: Iterable[Mapping[str, Any]]) -> _Req[list[dict[str, Any]]]:
    return _Req("POST", "/users:bulk", {"users": [dict(u) for u in users]}, lambda _, d: list(d["results"]))


def _token(user_id: str, kind: str) -> _Req[dict[str, Any]]:
    return _Req("POST", f"/users/{_seg(user_id)}/tokens", {"type": kind}, _reply)


def _presence(user_id: str) -> _Req[str]:
    return _Req("GET", f"/users/{_seg(user_id)}/presence", None, lambda _, d: str(d["status"]))


def _send(from_: str, to: str, kind: str, body: Mapping[str, Any], cid: str | None,
          opts: Mapping[str, Any] | None) -> _Req[dict[str, Any]]:
    msg = {"from": from_, "to": to, "kind": kind, "body": dict(body), **_fields(cid=cid, opts=opts)}
    return _Req("POST", "/messages", msg, _reply)


def _notify(data: Mapping[str, Any], users: Iterable[str], departments: Iterable[str]) -> _Req[None]:
    return _Req("POST", "/notifications", {"users": list(users), "departments": list(departments), "data": dict(data)},
                _nothing)


def _create_group(owner: str, name: str, members: Iterable[str], group_id: str | None) -> _Req[dict[str, Any]]:
    return _Req("POST", "/groups", {"owner": owner, "name": name, "members": list(members), **_fields(group_id=group_id)},
                _reply)


def _add_members(group_id: str, users: Iterable[str]) -> _Req[list[str]]:
    return _Req("POST", f"/groups/{_seg(group_id)}/members", {"users": list(users)}, lambda _, d: list(d["added"]))


def _remove_member(group_id: str, user_id: str) -> _Req[None]:
    return _Req("DELETE", f"/groups/{_seg(group_id)}/members/{_seg(user_id)}", None, _nothing)


def _dismiss(group_id: str) -> _Req[None]:
    return _Req("DELETE", f"/groups/{_seg(group_id)}", None, _nothing)


def _verify_identity(token: str, audience: str) -> _Req[dict[str, Any]]:
    return _Req("POST", "/apps/verify-identity", {"token": token, "audience": audience}, _reply)


class ServerClient:
    """Blocking client: `ServerClient("http://127.0.0.1:8080", "sk_...")`."""

    def __init__(self, base_url: str, key: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = key
        self.timeout = timeout

    def _run(self, req: _Req[R]) -> R:
        data = None if req.body is None else json.dumps(req.body).encode()
        headers = {"Authorization": f"Bearer {self._key}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        http = urllib.request.Request(self.base_url + PREFIX + req.path, data=data, method=req.method, headers=headers)
        try:
            with urllib.request.urlopen(http, timeout=self.timeout) as resp:
                raw = resp.read()
                return req.result(resp.status, json.loads(raw) if raw else None)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            raise _error(exc.code, body) from None

    def upsert_user(self, user_id: str, *, display_name: str | None = None, disabled: bool | None = None,
                    password: str | None = None, department_id: str | None = None, title: str | None = None,
                    external: bool | None = None) -> bool:
        """Create or update a user (user_id: the integrator's own id); True if created.
        `external=True`: a customer of the site, limited to customer service."""
        return self._run(_upsert_user(user_id, display_name=display_name, disabled=disabled, password=password,
                                      department_id=department_id, title=title, external=external))

    def bulk_upsert_users(self, users: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Up to 1,000 `{"user_id", "display_name"?, ...}`; one `{"user_id","status"}` each."""
        return self._run(_bulk(users))

    def token(self, user_id: str) -> dict[str, Any]:
        return self._run(_token(user_id, "access"))

    def sso_ticket(self, user_id: str) -> dict[str, Any]:
        return self._run(_token(user_id, "sso_ticket"))

    def presence(self, user_id: str) -> str:
        return self._run(_presence(user_id))

    def send_message(self, from_: str, to: str, kind: str, body: Mapping[str, Any], *, cid: str | None = None,
                     opts: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._run(_send(from_, to, kind, body, cid, opts))

    def notify(self, data: Mapping[str, Any], *, users: Iterable[str] = (), departments: Iterable[str] = ()) -> None:
        self._run(_notify(data, users, departments))

    def create_group(self, owner: str, name: str, members: Iterable[str] = (), *,
                     group_id: str | None = None) -> dict[str, Any]:
        return self._run(_create_group(owner, name, members, group_id))

    def add_members(self, group_id: str, users: Iterable[str]) -> list[str]:
        return self._run(_add_members(group_id, users))

    def remove_member(self, group_id: str, user_id: str) -> None:
        self._run(_remove_member(group_id, user_id))

    def dismiss_group(self, group_id: str) -> None:
        self._run(_dismiss(group_id))

    def verify_identity(self, token: str, audience: str) -> dict[str, Any]:
        """The user an app identity token names (docs/apps.md): `{"user_id", "username",
        "display_name", "departments", ...}`; `audience` is your page's origin. A bad,
        expired or foreign token raises ServerAPIError (401)."""
        return self._run(_verify_identity(token, audience))


class AsyncServerClient:
    """asyncio client: `async with AsyncServerClient(url, key) as srv: await srv.token("e1")`
    (or pass your own aiohttp session, which it then does not close)."""

    def __init__(self, base_url: str, key: str, *, session: aiohttp.ClientSession | None = None,
                 timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = key
        self._session = session
        self._own = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def __aenter__(self) -> AsyncServerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own and self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self, req: _Req[R]) -> R:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        kw: dict[str, Any] = {"headers": {"Authorization": f"Bearer {self._key}"}, "timeout": self._timeout}
        if req.body is not None:
            kw["json"] = req.body
        async with self._session.request(req.method, self.base_url + PREFIX + req.path, **kw) as resp:
            raw = await resp.read()
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = None
            if resp.status >= 400:
                raise _error(resp.status, data)
            return req.result(resp.status, data)

    async def upsert_user(self, user_id: str, *, display_name: str | None = None, disabled: bool | None = None,
                          password: str | None = None, department_id: str | None = None,
                          title: str | None = None, external: bool | None = None) -> bool:
        return await self._run(_upsert_user(user_id, display_name=display_name, disabled=disabled, password=password,
                                            department_id=department_id, title=title, external=external))

    async def bulk_upsert_users(self, users: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return await self._run(_bulk(users))

    async def token(self, user_id: str) -> dict[str, Any]:
        return await self._run(_token(user_id, "access"))

    async def sso_ticket(self, user_id: str) -> dict[str, Any]:
        return await self._run(_token(user_id, "sso_ticket"))

    async def presence(self, user_id: str) -> str:
        return await self._run(_presence(user_id))

    async def send_message(self, from_: str, to: str, kind: str, body: Mapping[str, Any], *, cid: str | None = None,
                           opts: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self._run(_send(from_, to, kind, body, cid, opts))

    async def notify(self, data: Mapping[str, Any], *, users: Iterable[str] = (),
                     departments: Iterable[str] = ()) -> None:
        await self._run(_notify(data, users, departments))

    async def create_group(self, owner: str, name: str, members: Iterable[str] = (), *,
                           group_id: str | None = None) -> dict[str, Any]:
        return await self._run(_create_group(owner, name, members, group_id))

    async def add_members(self, group_id: str, users: Iterable[str]) -> list[str]:
        return await self._run(_add_members(group_id, users))

    async def remove_member(self, group_id: str, user_id: str) -> None:
        await self._run(_remove_member(group_id, user_id))

    async def dismiss_group(self, group_id: str) -> None:
        await self._run(_dismiss(group_id))

    async def verify_identity(self, token: str, audience: str) -> dict[str, Any]:
        return await self._run(_verify_identity(token, audience))
