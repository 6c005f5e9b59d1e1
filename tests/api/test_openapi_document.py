"""The OpenAPI document as built from the route table, and the reply check, in-process.

The document must be self-contained (every `$ref` resolves: `RequestsOut` once named
two models and resolved to neither), declare a reply model and the error replies for
every operation, and type every parameter; the reply check must catch a reply that
strays from its model in any way a generated client would notice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from semot.api import (
    admin_api,
    admin_groups_api,
    admin_logs_api,
    admin_roles_api,
    audit_log_api,
    client_api,
    contacts_api,
    dashboard_api,
    devtools_api,
    directory_api,
    groups_api,
    import_api,
    org_admin_api,
    org_admin_extra_api,
    presence_api,
    replies,
    set_password_api,
)
from semot.api.groups_api import GroupMemberOut, JoinOut, MembersOut
from semot.api.routing import Route, RouteTable
from semot.errors import Internal


def _table() -> RouteTable:
    table = RouteTable()
    for part in (
        client_api, groups_api, contacts_api, presence_api, admin_api, directory_api, org_admin_api, admin_groups_api,
        org_admin_extra_api, admin_roles_api, audit_log_api, devtools_api, admin_logs_api, dashboard_api,
        set_password_api, import_api,
    ):
        table.routes.extend(part.routes().routes)
    return table


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return _table().openapi(title="Semot API", version="test")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_ref_resolves(doc: dict[str, Any]) -> None:
    refs = set(_refs(doc))
    assert "#/components/schemas/GroupRequestsOut" in refs and "#/components/schemas/FriendRequestsOut" in refs
    for ref in refs:
        section, name = ref.removeprefix("#/components/").split("/")
        assert name in doc["components"][section], ref


def test_two_models_with_one_name_are_refused() -> None:
    class StatusOut(BaseModel):  # same name as api.models.StatusOut, another model
        state: int

    async def handler() -> None: ...

    table = _table()
    table.add(Route("GET", "/api/v1/clash", handler, "clash", "test", None, StatusOut))
    with pytest.raises(ValueError, match="two API models are named StatusOut"):
        table.openapi(title="x", version="x")


def test_every_operation_declares_its_reply_errors_and_parameters(doc: dict[str, Any]) -> None:
    op_ids = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            op_ids.append(op["operationId"])
            responses = op["responses"]
            ok = [code for code in responses if code.startswith("2")]
            assert len(ok) == 1 and "content" in responses[ok[0]], (method, path)
            expected = {"400", "403", "404", "409", "429", "default"}
            if op.get("security") or "/auth/" in path:
                expected.add("401")
            if "requestBody" in op:
                expected.add("413")
            assert expected <= set(responses), (method, path, set(responses))
            for p in op.get("parameters", []):
                schema = p["schema"]
                if schema["type"] == "string":
                    assert "pattern" in schema and "maxLength" in schema, (method, path, p)
                if p["in"] == "path":
                    assert schema.get("minLength") == 1 or "pattern" in schema, (method, path, p)
    assert len(op_ids) == len(set(op_ids)), "operationIds must be unique"


def test_error_schema(doc: dict[str, Any]) -> None:
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    detail = doc["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message"} and "details" in detail["properties"]
    assert "Retry-After" in doc["components"]["responses"]["RateLimited"]["headers"]


def test_request_strings_are_nul_free_and_names_not_blank(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["RegisterIn"]["properties"]["password"]["pattern"] == "^[^\\x00]*$"
    assert "\\s" in schemas["CreateGroupIn"]["properties"]["name"]["pattern"]
    settings = schemas["GroupSettingsIn"]
    assert settings["additionalProperties"] is False and set(settings["properties"]) >= {"join", "invite"}


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ({"joined": True, "request_id": None}, None),
        ({"joined": True, "request_id": None, "extra": 1}, "reply.extra is not in the model"),
        ({"joined": True}, "request_id: Field required"),
        ({"joined": 1, "request_id": None}, "joined: Input should be a valid boolean"),
    ],
)
def test_reply_problems(reply: dict[str, Any], problem: str | None) -> None:
    assert replies.problem(JoinOut, orjson.dumps(reply)) == problem


def test_reply_problem_at_depth() -> None:
    member = {"user_id": "a", "role": "owner", "joined_at": 1, "muted_until": None}
    page = {"members": [member, {**member, "x": 2}], "more": False, "next": None, "total": 2}
    assert replies.problem(MembersOut, orjson.dumps(page)) == "reply.members.1.x is not in the model"
    assert replies.problem(GroupMemberOut, orjson.dumps({**member, "joined_at": 1.5})) is not None


def test_check_refuses_loudly(caplog: pytest.LogCaptureFixture) -> None:
    body = orjson.dumps({"joined": True, "request_id": None})
    replies.check("POST /x", 200, 200, JoinOut, body)  # fits: nothing happens
    with pytest.raises(Internal, match="status 201, declared 200"):
        replies.check("POST /x", 201, 200, JoinOut, body)
    with pytest.raises(Internal, match="no reply model"):
        replies.check("POST /x", 200, 200, None, body)
    with pytest.raises(Internal, match="error: Field required"):
        replies.check("POST /x", 400, 200, JoinOut, b'{"code": "bad_request"}')
    assert "reply of POST /x does not match its declaration" in caplog.text
