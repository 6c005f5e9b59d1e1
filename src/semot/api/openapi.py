"""The OpenAPI 3.1 document of a route table (/openapi.json).

Everything in it comes from the declarations the server enforces: body models (parsed
strictly), reply models (in tests every reply is checked against its model, see
replies.py), path and query parameters (checked before any handler runs), and the
error replies, one schema for all. Two models may not share a name: a `$ref` would
then point at the wrong one, or at none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from .models import NUL_FREE, ErrorOut

if TYPE_CHECKING:
    from .routing import Route

REF = "#/components/schemas/{model}"

# status -> (name in components/responses, description)
ERROR_STATUSES = {
    400: ("BadRequest", "Malformed request: a parameter or the body outside its schema (`bad_request`)"),
    401: ("Unauthorized", "No valid access token, or wrong credentials (`unauthorized`)"),
    403: ("Forbidden", "Not allowed for you (`forbidden`, `muted`, `blocked`)"),
    404: ("NotFound", "Not found, or not visible to you (`not_found`)"),
    409: ("Conflict", "Not possible in the current state (`conflict`)"),
    413: ("TooLarge", "Body over 1 MiB (`too_large`)"),
    429: ("RateLimited", "Too many attempts: wait Retry-After seconds (`rate_limited`)"),
}
_OK = {200: "OK", 201: "Created", 204: "Done (no content)", 206: "Partial content"}
SERVER_ERROR = ("ServerError", "Server error: `internal` (500) or `unavailable` (503)")


def _responses() -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}
    out = {name: {"description": text, "content": content} for name, text in (*ERROR_STATUSES.values(), SERVER_ERROR)}
    out["RateLimited"]["headers"] = {
        "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 0}}
    }
    return out


class _BodySchema(GenerateJsonSchema):
    """Request bodies: every string is NUL-free, as parse_body enforces."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        out = super().str_schema(schema)
        out.setdefault("pattern", NUL_FREE)
        return out


def _schemas(models: Iterable[type[BaseModel]], generator: type[GenerateJsonSchema]) -> tuple[dict[type[BaseModel], str], dict[str, Any]]:
    ordered = sorted(set(models), key=lambda m: m.__name__)
    seen: dict[str, type[BaseModel]] = {}
    for m in ordered:
        if seen.setdefault(m.__name__, m) is not m:
            raise ValueError(f"two API models are named {m.__name__} ({m.__module__}, {seen[m.__name__].__module__})")
    keys, defs = models_json_schema([(m, "validation") for m in ordered], ref_template=REF, schema_generator=generator)
    refs = {m: keys[(m, "validation")]["$ref"].rsplit("/", 1)[1] for m in ordered}
    return refs, defs.get("$defs", {})


def build(routes: list[Route], *, title: str, version: str) -> dict[str, Any]:
    body_refs, schemas = _schemas((r.body for r in routes if r.body is not None), _BodySchema)
    reply_refs, reply_defs = _schemas([ErrorOut, *(r.reply for r in routes if r.reply is not None)], GenerateJsonSchema)
    for name, schema in reply_defs.items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"the API model {name} is used in a request body and in a reply: split it")
    schemas["Error"] = {**schemas.pop(reply_refs[ErrorOut]), "title": "Error"}
    paths: dict[str, dict[str, Any]] = {}
    op_ids: set[str] = set()
    for r in routes:
        op_id = r.handler.__name__
        if op_id in op_ids:
            raise ValueError(f"two API handlers are named {op_id}: operationIds must be unique")
        op_ids.add(op_id)
        op: dict[str, Any] = {"summary": r.summary, "tags": [r.tag], "operationId": op_id}
        params = [
            {"name": name, "in": "path", "required": True, "description": spec.description, "schema": spec.schema()}
            for name, spec in r.path_params().items()
        ]
        for name in r.query:
            spec = r.query_spec(name)
            params.append(
                {"name": name, "in": "query", "required": spec.required, "description": spec.description,
                 "schema": spec.schema()}
            )
        for name, spec in r.headers.items():
            params.append(
                {"name": name, "in": "header", "required": spec.required, "description": spec.description,
                 "schema": spec.schema()}
            )
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=body_refs[r.body])}}},
            }
        elif r.raw_body is not None:
            op["requestBody"] = {
                "required": r.raw_body_required,
                "content": {r.raw_body: {"schema": {"type": "string", "format": "binary"}}},
            }
        ok: dict[str, Any] = {"description": _OK.get(r.status, "OK")}
        if r.reply is not None:
            ok["content"] = {"application/json": {"schema": {"$ref": REF.format(model=reply_refs[r.reply])}}}
        elif r.reply_media is not None:
            ok["content"] = {r.reply_media: {"schema": {"type": "string"}}}
        if r.reply_headers:
            ok["headers"] = {
                name: {"description": spec.description, "required": spec.required, "schema": spec.schema()}
                for name, spec in r.reply_headers.items()
            }
        op["responses"] = {str(r.status): ok, **_errors(r)}
        for status, text in r.responses.items():
            op["responses"][str(status)] = {"description": text} if status < 400 else {
                "description": text, "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}
            }
        if r.auth:
            op["security"] = [{"server_key" if r.auth == "server" else "bearer": []}]
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Every path answers a method it does not list with 405 and an Allow header.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "responses": _responses(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                # the server API (/api/server/v1): `Authorization: Bearer sk_...` (docs/integration.md)
                "server_key": {"type": "http", "scheme": "bearer", "bearerFormat": "server API key"},
            },
        },
    }


def _errors(r: Route) -> dict[str, Any]:
    codes = [400, 403, 404, 409, 429]
    if r.auth or r.tag == "auth":
        codes.append(401)
    if r.body is not None:
        codes.append(413)
    out = {str(c): {"$ref": f"#/components/responses/{ERROR_STATUSES[c][0]}"} for c in sorted(codes)}
    out["default"] = {"$ref": f"#/components/responses/{SERVER_ERROR[0]}"}
    return out
