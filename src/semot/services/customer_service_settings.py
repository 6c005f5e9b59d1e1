"""The customer-service widget's settings, cached per node (docs/customer-service.md).

Apart from the sessions (services/customer_service.py) because their readers are not the
sessions': the allowed origins (CORS, api/cors.py) and frame ancestors (the widget page's
CSP, api/widget_static.py) are read synchronously on every request from a shop's page,
so a copy is kept in memory, dropped on every node through the bus (`CS_KEY`) and
reloaded at once. CustomerService keeps its public methods and hands them over to this.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from semot.domain import customer_service as rules
from semot.domain.customer_service import WidgetSettings
from semot.ids import now_ms
from semot.storage.customer_service import CustomerServiceStorage

log = logging.getLogger(__name__)

CS_KEY = "cs:settings"  # Invalidate key: the widget's settings changed


class WidgetSettingsCache:
    def __init__(self, store: CustomerServiceStorage) -> None:
        self._store = store
        self._settings: WidgetSettings | None = None
        self._listeners: list[Callable[[WidgetSettings], None]] = []  # told at each (re)load of the settings
        self._tasks: set[asyncio.Task[None]] = set()

    async def settings(self) -> WidgetSettings:
        if self._settings is None:
            self._settings = rules.widget_settings(await self._store.settings())
            for listener in self._listeners:
                listener(self._settings)
        return self._settings

    def listen(self, listener: Callable[[WidgetSettings], None]) -> None:
        """`listener(settings)` at each (re)load of the settings, on every node (app.py puts
        the sites' origins in the web client's CSP: a context card's product picture); at
        once too when they are loaded already."""
        self._listeners.append(listener)
        if self._settings is not None:
            listener(self._settings)

    async def get_settings(self) -> dict[str, Any]:
        """The settings as the admin API shows them (api/widget_static.py reads the frame ancestors)."""
        return (await self.settings()).to_wire()

    def allowed_origins(self) -> tuple[str, ...]:
        """Sites whose pages may call the visitor API: synchronous, for CORS (api/cors.py)."""
        return (self._settings or WidgetSettings()).allowed_origins

    def open_now(self) -> bool:
        return rules.open_now(self._settings or WidgetSettings(), now_ms())

    def invalidate(self, key: str) -> None:
        if key == CS_KEY:
            self._settings = None
            with contextlib.suppress(RuntimeError):  # reload at once: CORS reads the cached copy
                task = asyncio.get_running_loop().create_task(self._reload())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _reload(self) -> None:
        try:
            await self.settings()
        except Exception:
            log.exception("reloading the customer-service settings failed")

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
