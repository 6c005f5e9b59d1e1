"""Server API keys, the API call log and SSO tickets (docs/integration.md).

A key is `sk_<key_id>_<secret>` (the secret: 32 random bytes). Only its SHA-256 is
stored. A fast hash is right here, unlike for passwords: a password is guessable, so its
hash must be slow (argon2); a key carries 256 random bits, so nobody can search the
hash's input space however fast the hash is, and every server API call checks one
without spending milliseconds on it. A stolen database therefore yields no usable key.

Authentication (`authenticate`) looks the key up by its hash (cached for `cache_s`, so
a revocation reaches other nodes within that time; on the node that revoked it, at
once), then checks, in this order: revoked or expired (401), the caller's address
against the key's allowlist (403), the route's scope (403), the key's rate limit per
minute (429; counted in memory on one node, in Redis when several share it).

Every call is queued to the call log (`record`: no I/O on the call's path) and written
in batches; rows older than `retention_days` are purged hourly.

SSO tickets: `issue_ticket` stores the SHA-256 of a random ticket with the user and an
expiry 60 s ahead; `redeem` deletes it and returns the user, once. A ticket Semot mints
for its own sign-ins (OpenID Connect) starts with the method (`oidc.`), which the login
log records (`ticket_method`); the hash covers it, so nobody can relabel a ticket.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import math
import secrets
from collections import deque
from collections.abc import Sequence

from semot.bus.limits import Counters
from semot.errors import BadRequest, Forbidden, NotFound, RateLimited, Unauthorized
from semot.ids import now_ms
from semot.storage.api_keys import MAX_NAME, MAX_PATH, SCOPES, ApiCall, ApiCallQuery, ApiKey, ApiKeyStorage

log = logging.getLogger(__name__)

KEY_PREFIX = "sk_"
SSO_TICKET_TTL_S = 60
TICKET_METHODS = ("oidc",)  # sign-ins whose tickets say so (the login log's method)
MAX_KEY = 128
MAX_ALLOW_IPS = 100
PURGE_EVERY_S = 3600.0
DAY_MS = 86_400_000

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def hash_ticket(ticket: str) -> str:
    return hashlib.sha256(b"semot-sso-ticket\x00" + ticket.encode()).hexdigest()


def parse_cidrs(cidrs: Sequence[str]) -> tuple[str, ...]:
    """CIDRs (or single addresses), v4 or v6, normalised (`10.0.0.7/8` is `10.0.0.0/8`)."""
    if len(cidrs) > MAX_ALLOW_IPS:
        raise BadRequest(f"allow_ips: at most {MAX_ALLOW_IPS} networks")
    out: list[str] = []
    for raw in cidrs:
        try:
            out.append(str(ipaddress.ip_network(raw.strip(), strict=False)))
        except ValueError:
            raise BadRequest(f"allow_ips: {raw[:60]!r} is not an IP address or CIDR network") from None
    return tuple(dict.fromkeys(out))


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise BadRequest(f"scopes: unknown {bad[0][:40]!r} (known: {', '.join(SCOPES)})")
    return tuple(s for s in SCOPES if s in scopes)


def ip_allowed(ip: str, networks: Sequence[str]) -> bool:
    """Whether `ip` is inside one of `networks` (empty: every address). An IPv4 address
    seen as IPv4-mapped IPv6 (`::ffff:10.0.0.1`) counts as the IPv4 address."""
    if not networks:
        return True
    try:
        addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for raw in networks:
        net: IPNet = ipaddress.ip_network(raw, strict=False)
        if addr.version == net.version and addr in net:
            return True
    return False


class ApiKeyService:
    def __init__(
        self,
        store: ApiKeyStorage,
        counters: Counters | None,
        *,
        retention_days: int = 30,
        flush_s: float = 1.0,
        batch_max: int = 500,
        queue_max: int = 100_000,
        cache_s: float = 5.0,
    ) -> None:
        self._store = store
        self._counters = counters
        self.retention_days = retention_days
        self._flush_s = flush_s
        self._batch_max = batch_max
        self._queue: deque[ApiCall] = deque()
        self._queue_max = queue_max
        self._dropped = 0
        self._used: dict[str, int] = {}  # key_id -> last use (ms), written with the next batch
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_purge = 0.0
        self._cache_s = cache_s
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}

    # --- life
    async def start(self) -> None:
        if self._counters is not None:
            await self._counters.start()
        self._next_purge = asyncio.get_running_loop().time() + 60
        self._task = asyncio.create_task(self._run(), name="semot-api-calls")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()
        if self._counters is not None:
            await self._counters.stop()

    # --- keys
    async def create(
        self,
        name: str,
        *,
        scopes: Sequence[str] | None = None,
        allow_ips: Sequence[str] = (),
        rate_per_min: int = 0,
        expires_at: int | None = None,
        created_by: str | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret form (shown once: only its hash is kept)."""
        name = name.strip()
        if not 1 <= len(name) <= MAX_NAME:
            raise BadRequest(f"name: 1-{MAX_NAME} characters, not all blank")
        now = now_ms()
        if expires_at is not None and expires_at <= now:
            raise BadRequest("expires_at: must be in the future")
        if rate_per_min < 0:
            raise BadRequest("rate_per_min: 0 (unlimited) or more")
        key_id = secrets.token_hex(8)
        secret = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        key = ApiKey(
            id=key_id, name=name, key_hash=hash_key(secret), prefix=secret[: len(KEY_PREFIX) + 8],
            scopes=check_scopes(SCOPES if scopes is None else scopes), allow_ips=parse_cidrs(allow_ips),
            rate_per_min=rate_per_min, expires_at=expires_at, created_at=now, created_by=created_by,
        )
        await self._store.add_api_key(key)
        return key, secret

    async def keys(self) -> list[ApiKey]:
        return await self._store.api_keys()

    async def get(self, key_id: str) -> ApiKey:
        key = await self._store.api_key(key_id)
        if key is None:
            raise NotFound(f"no API key {key_id!r}")
        return key

    async def update(
        self,
        key_id: str,
        *,
        name: str | None = None,
        scopes: Sequence[str] | None = None,
        allow_ips: Sequence[str] | None = None,
        rate_per_min: int | None = None,
        expires_at: int | bool | None = False,  # False: unchanged
        revoked: bool | None = None,
    ) -> ApiKey:
        key = await self.get(key_id)
        values: dict[str, object] = {}
        if name is not None:
            name = name.strip()
            if not 1 <= len(name) <= MAX_NAME:
                raise BadRequest(f"name: 1-{MAX_NAME} characters, not all blank")
            values["name"] = name
        if scopes is not None:
            values["scopes"] = check_scopes(scopes)
        if allow_ips is not None:
            values["allow_ips"] = parse_cidrs(allow_ips)
        if rate_per_min is not None:
            values["rate_per_min"] = rate_per_min
        if expires_at is not False:
            values["expires_at"] = expires_at
        if revoked is True and key.revoked_at is None:
            values["revoked_at"] = now_ms()
        elif revoked is False and key.revoked_at is not None:
            raise BadRequest("a revoked key stays revoked: create a new one")
        updated = await self._store.update_api_key(key_id, **values) if values else key
        if updated is None:
            raise NotFound(f"no API key {key_id!r}")
        self._cache.pop(key.key_hash, None)
        return updated

    async def revoke(self, key_id: str) -> ApiKey:
        return await self.update(key_id, revoked=True)

    # --- authentication (every server API call)
    async def _lookup(self, key_hash: str) -> ApiKey | None:
        loop = asyncio.get_running_loop()
        hit = self._cache.get(key_hash)
        if hit is not None and hit[1] > loop.time():
            return hit[0]
        key = await self._store.api_key_by_hash(key_hash)
        if len(self._cache) >= 10_000:
            self._cache.clear()
        self._cache[key_hash] = (key, loop.time() + self._cache_s)
        return key

    async def authenticate(self, token: str | None, ip: str, scope: str | None) -> ApiKey:
        return await self.check(await self.identify(token), ip, scope)

    async def identify(self, token: str | None) -> ApiKey:
        """The live key `token` is (401 when unknown, revoked or expired)."""
        if not token or len(token) > MAX_KEY or not token.startswith(KEY_PREFIX):
            raise Unauthorized("missing or malformed server API key (Authorization: Bearer sk_...)")
        key = await self._lookup(hash_key(token))
        now = now_ms()
        if key is None or key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
            raise Unauthorized("this server API key is unknown, revoked or expired")
        return key

    async def check(self, key: ApiKey, ip: str, scope: str | None) -> ApiKey:
        if not ip_allowed(ip, key.allow_ips):
            raise Forbidden(f"this key may not be used from {ip}")
        if scope is not None and scope not in key.scopes:
            raise Forbidden(f"this key lacks the scope {scope!r}")
        if key.rate_per_min and self._counters is not None:
            hit = await self._counters.hit(f"apikey:{key.id}", 60.0)
            if hit.count > key.rate_per_min:
                retry = max(1, math.ceil(hit.retry_after_s))
                raise RateLimited(f"this key's rate limit is {key.rate_per_min} calls a minute; retry in {retry} s",
                                  retry_after=retry)
        self._used[key.id] = now_ms()
        return key

    # --- the call log
    def record(self, key_id: str | None, ip: str, method: str, path: str, status: int, duration_ms: int) -> None:
        """Queue one call (no I/O); written within `flush_s`."""
        try:
            if len(self._queue) >= self._queue_max:
                self._queue.popleft()
                self._dropped += 1
            clean = path[:MAX_PATH].encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
            self._queue.append(ApiCall(key_id, ip[:64], method[:8], clean, status, max(0, duration_ms), now_ms()))
            if len(self._queue) >= self._batch_max:
                self._wakeup.set()
        except Exception:
            log.exception("could not queue an API call log entry")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), self._flush_s)
            except TimeoutError:
                pass
            self._wakeup.clear()
            await self.flush()
            if loop.time() >= self._next_purge:
                self._next_purge = loop.time() + PURGE_EVERY_S
                try:
                    await self.purge()
                except Exception:
                    log.warning("purging old API call log entries failed (retried in an hour)", exc_info=True)

    async def flush(self) -> int:
        if self._dropped:
            log.warning("API call log queue full: %d oldest entries dropped", self._dropped)
            self._dropped = 0
        used, self._used = self._used, {}
        for key_id, ts in used.items():
            try:
                await self._store.update_api_key(key_id, last_used_at=ts)
            except Exception:
                log.warning("could not record when API key %s was last used", key_id, exc_info=True)
        written = 0
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(self._batch_max, len(self._queue)))]
            try:
                await self._store.add_api_calls(batch)
            except Exception:
                self._queue.extendleft(reversed(batch))
                log.warning("writing %d API call log entries failed (retried)", len(batch), exc_info=True)
                break
            written += len(batch)
        return written

    async def purge(self) -> int:
        return await self._store.purge_api_calls(now_ms() - self.retention_days * DAY_MS)

    async def calls(self, query: ApiCallQuery, *, offset: int, limit: int) -> tuple[list[ApiCall], int]:
        return await self._store.api_calls(query, offset=offset, limit=limit)

    # --- SSO tickets
    async def issue_ticket(self, user_id: str, *, method: str = "") -> str:
        """`method`: one of TICKET_METHODS (a sign-in of Semot's own), or "" (the server API's)."""
        if method and method not in TICKET_METHODS:
            raise ValueError(f"unknown ticket method {method!r}")
        ticket = (f"{method}." if method else "") + secrets.token_urlsafe(32)
        await self._store.add_sso_ticket(hash_ticket(ticket), user_id, now_ms() + SSO_TICKET_TTL_S * 1000)
        return ticket

    @staticmethod
    def ticket_method(ticket: str) -> str:
        """The login log's method for a ticket: "oidc" for Semot's own, else "sso"."""
        prefix, dot, _ = ticket.partition(".")
        return prefix if dot and prefix in TICKET_METHODS else "sso"

    async def redeem(self, ticket: str) -> str:
        """The ticket's user; the ticket is used up. 401 when unknown, used or expired."""
        if not ticket or len(ticket) > MAX_KEY:
            raise Unauthorized("this sign-in link is invalid, expired or already used")
        user_id = await self._store.take_sso_ticket(hash_ticket(ticket), now_ms())
        if user_id is None:
            raise Unauthorized("this sign-in link is invalid, expired or already used")
        return user_id
