"""Place search (`GET /api/v1/geo/search`) for the location picker: the organisation's
places, an offline gazetteer of cities, and an outside geocoder when one is configured
(services/geo.py; docs/protocol.md, "Place search"). Signed-in users only, rate-limited
per user, at most 30 results; refused (`forbidden`) while the `location` feature is off."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from semot.domain.geo import MAX_QUERY, parse_near
from semot.errors import BadRequest
from semot.services.geo import MAX_LIMIT, GeoService

from .http import Call
from .routing import Query, Route, RouteTable

GEO: web.AppKey[GeoService] = web.AppKey("geo", GeoService)

QUERY: dict[str, Query | str] = {
    "q": Query(f"a place's name, address or pinyin (at most {MAX_QUERY} characters); empty: the organisation's "
               "places", "string", max_length=MAX_QUERY),
    "near": Query("lat,lng: nearer places first among equal matches, and each result's distance_m", "string",
                  max_length=64, pattern=r"^-?[0-9]{1,3}(\.[0-9]{1,12})?,-?[0-9]{1,3}(\.[0-9]{1,12})?$"),
    "lang": Query("zh: Chinese names of cities and countries where known; en (default): GeoNames' names", "string",
                  max_length=2, pattern="^(zh|en)$"),
    "limit": Query(f"1-{MAX_LIMIT}, default 10", minimum=1, maximum=MAX_LIMIT),
}


class PlaceOut(BaseModel):
    kind: Literal["place", "city", "geocoder"] = Field(
        description="place: one of the organisation's places; city: from the offline gazetteer; geocoder: from "
        "the configured geocoder"
    )
    title: str = Field(description="send as the location message's title")
    address: str = Field(description="send as its address (a city's: its country)")
    lat: float
    lng: float
    country: str | None = Field(None, description="a city's ISO 3166-1 country code")
    population: int | None = Field(None, description="a city's population")
    distance_m: int | None = Field(None, description="metres from `near` (when given)")


class GeoSearchOut(BaseModel):
    results: list[PlaceOut] = Field(
        description="the organisation's places first, then cities matching exactly, the geocoder's answers, "
        "other cities"
    )
    geocoder: Literal["off", "ok", "failed", "skipped"] = Field(
        description="the outside geocoder: none configured, answered, failed or timed out (the rest still "
        "answer), or not asked (empty query)"
    )


async def geo_search(call: Call) -> dict[str, Any]:
    if call.services.client_settings is not None:  # location messages switched off: nothing to search for
        call.services.client_settings.gate.require("location")
    try:
        near = parse_near(call.query_str("near"))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return await call.request.app[GEO].search(
        call.me.id, call.query_str("q") or "", near=near, lang=call.query_str("lang") or "en",
        limit=call.query_int("limit") or 10,
    )


def install(app: web.Application, service: GeoService) -> None:
    app[GEO] = service


def routes() -> RouteTable:
    t = RouteTable()
    t.add(Route("GET", "/api/v1/geo/search", geo_search,
                "Find places for a location message: the organisation's places, cities, the configured geocoder",
                "location", None, GeoSearchOut, query=QUERY))
    return t
