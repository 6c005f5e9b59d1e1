"""A typed route table: pydantic models in, JSON out, and an OpenAPI 3 document from both.

Each route declares its body model, reply model and whether it needs a bearer token;
the same declaration validates requests and documents them at /openapi.json, so the
docs cannot drift from what the server accepts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from semot.errors import BadRequest

Handler = Callable[..., Awaitable[Any]]


@dataclass(slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    reply: type[BaseModel] | None = None
    status: int = 200
    auth: str | None = "bearer"  # "bearer", "admin" or None
    query: dict[str, str] = field(default_factory=dict)  # name -> description (integers)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def parse_body(request: web.Request, model: type[BaseModel]) -> Any:
    raw = await request.read()
    try:
        obj = orjson.loads(raw or b"null")
    except orjson.JSONDecodeError:
        raise BadRequest("request body is not valid JSON") from None
    try:
        return model.model_validate(obj, strict=True)
    except ValidationError as exc:
        errs = exc.errors(include_url=False, include_input=False)
        first = errs[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise BadRequest(
            f"{where}: {first['msg']}",
            fields=[{"field": ".".join(str(p) for p in e["loc"]), "error": e["msg"]} for e in errs[:10]],
        ) from None


class RouteTable:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, route: Route) -> None:
        self.routes.append(route)

    def openapi(self, *, title: str, version: str) -> dict[str, Any]:
        models = {m for r in self.routes for m in (r.body, r.reply) if m is not None}
        _, defs = models_json_schema(
            [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
            ref_template="#/components/schemas/{model}",
        )
        schemas = defs.get("$defs", {})
        schemas["Error"] = {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    "required": ["code", "message"],
                }
            },
        }
        paths: dict[str, dict[str, Any]] = {}
        for r in self.routes:
            op: dict[str, Any] = {"summary": r.summary, "tags": [r.tag], "operationId": r.handler.__name__}
            params = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in _path_params(r.path)
            ]
            params += [
                {"name": q, "in": "query", "required": False, "description": d, "schema": {"type": "integer"}}
                for q, d in r.query.items()
            ]
            if params:
                op["parameters"] = params
            if r.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{r.body.__name__}"}}},
                }
            ok: dict[str, Any] = {"description": "OK"}
            if r.reply is not None:
                ok["content"] = {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{r.reply.__name__}"}}
                }
            err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            op["responses"] = {str(r.status): ok, "4XX": {"description": "Error", **err}}
            if r.auth:
                op["security"] = [{"bearer": []}]
            paths.setdefault(r.path, {})[r.method.lower()] = op
        return {
            "openapi": "3.1.0",
            "info": {"title": title, "version": version},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            },
        }


def _path_params(path: str) -> list[str]:
    return [seg[1:-1] for seg in path.split("/") if seg.startswith("{") and seg.endswith("}")]
