"""A user's devices as an administrator sees them: logins, the devices that used each,
from which address and when, and which are online now on any node.

A login is a refresh-token family (services/accounts.py); its tokens say when it began
and was last refreshed. The gateway reports each socket that authenticates (`seen`:
never waits, no I/O on the connect path); the reports are written in batches every
second, and a (login, device) already written from the same address and platform in
the last ten minutes is not written again, so a reconnect storm after a restart costs
one row per device, not one per reconnect. Who is online comes from the presence
registry (cluster-wide, services/presence.py); a live device id is matched to the
login it was last recorded with.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from semot.bus.presence import PresenceRegistry
from semot.ids import now_ms
from semot.storage.user_admin import DeviceRecord, DeviceSeen, UserAdminStorage

log = logging.getLogger(__name__)

FLUSH_S = 1.0
REWRITE_AFTER_S = 600.0  # a (login, device) seen again from the same place is rewritten after this
MAX_PENDING = 50_000  # reports waiting for the next batch (beyond: dropped, counted)
MAX_REMEMBERED = 200_000
PRUNE_EVERY_S = 3600.0
DAY_MS = 86_400_000


class DeviceRecorder:
    def __init__(
        self, store: UserAdminStorage, registry: PresenceRegistry, *, refresh_ttl_s: int, flush_s: float = FLUSH_S
    ) -> None:
        self._store = store
        self._registry = registry
        self._refresh_ttl_ms = refresh_ttl_s * 1000
        self._flush_s = flush_s
        self._pending: dict[tuple[str, str], DeviceSeen] = {}
        # (login, device) -> (when written, platform, ip): what needs no rewrite yet
        self._written: OrderedDict[tuple[str, str], tuple[float, str, str]] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._last_prune = 0.0
        self.dropped = 0

    # --- recording (the gateway's side)
    def seen(self, user_id: str, login_id: str, device_id: str, platform: str, ip: str) -> None:
        """A socket authenticated: remember it for the next batch. Synchronous, cheap."""
        if not (user_id and login_id and device_id):
            return
        key = (login_id, device_id)
        done = self._written.get(key)
        if done is not None and done[1:] == (platform, ip) and time.monotonic() - done[0] < REWRITE_AFTER_S:
            return
        if key not in self._pending and len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self._pending[key] = DeviceSeen(user_id, login_id, device_id, platform, ip[:64], now_ms())

    async def flush(self) -> int:
        """Write what waits; on a storage failure it is kept for the next try."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, {}
        try:
            await self._store.record_devices(list(batch.values()))
        except Exception:
            for key, seen in batch.items():
                self._pending.setdefault(key, seen)
            raise
        now = time.monotonic()
        for key, seen in batch.items():
            self._written[key] = (now, seen.platform, seen.ip)
            self._written.move_to_end(key)
        while len(self._written) > MAX_REMEMBERED:
            self._written.popitem(last=False)
        return len(batch)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="semot-device-records")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await self.flush()
        except Exception:
            log.warning("could not write the last device records", exc_info=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_s)
            try:
                await self.flush()
                if time.monotonic() - self._last_prune > PRUNE_EVERY_S:
                    self._last_prune = time.monotonic()
                    # a device row outlives its login's last possible refresh by a day
                    await self._store.prune_devices(now_ms() - self._refresh_ttl_ms - DAY_MS)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("writing device records failed (retried)", exc_info=True)

    # --- reading (the admin API's side)
    async def online(self, user_ids: list[str]) -> dict[str, bool]:
        """Whether each user has a device connected to any node."""
        try:
            seen = await self._registry.lookup(user_ids)
        except Exception:
            log.warning("presence registry unreachable: online state unknown", exc_info=True)
            return {}
        return {u: s.devices > 0 for u, s in seen.items()}

    async def devices(self, user_id: str) -> dict[str, Any]:
        """The user's live logins with their devices, and the devices connected now."""
        try:
            await self.flush()  # this node's newest reports first
        except Exception:
            log.warning("device records not written before reading", exc_info=True)
        logins = [x for x in await self._store.user_logins(user_id) if x.alive]
        records = await self._store.user_devices(user_id)
        live = await self._registry.devices(user_id)
        alive = {x.login_id for x in logins}
        owner: dict[str, DeviceRecord] = {}  # live device id -> its latest record on a live login
        for r in records:  # most recent first
            if r.device_id in live and r.login_id in alive and r.device_id not in owner:
                owner[r.device_id] = r
        by_login: dict[str, list[DeviceRecord]] = {}
        for r in records:
            by_login.setdefault(r.login_id, []).append(r)
        ttl = self._refresh_ttl_ms
        out_logins = []
        for x in logins:
            devs = by_login.get(x.login_id, [])
            devices = [
                {
                    "device_id": r.device_id,
                    "platform": r.platform,
                    "ip": r.ip,
                    "first_seen": r.first_seen,
                    "last_seen": r.last_seen,
                    "online": owner.get(r.device_id) is r,
                }
                for r in devs
            ]
            latest = devs[0] if devs else None
            out_logins.append(
                {
                    "login_id": x.login_id,
                    "created_at": max(0, x.first_expires - ttl),
                    "refreshed_at": max(0, x.last_expires - ttl),
                    "expires_at": x.last_expires,
                    "platform": latest.platform if latest else None,
                    "ip": latest.ip if latest else None,
                    "last_seen": latest.last_seen if latest else None,
                    "online": any(d["online"] for d in devices),
                    "devices": devices,
                }
            )
        connections = []
        for device_id in sorted(live):
            rec = owner.get(device_id)
            connections.append(
                {
                    "device_id": device_id,
                    "login_id": rec.login_id if rec else None,
                    "platform": rec.platform if rec else None,
                    "ip": rec.ip if rec else None,
                }
            )
        return {"user_id": user_id, "online": bool(live), "logins": out_logins, "connections": connections}
