"""Composition root: the only package that picks implementations and wires a node.

Split by concern: `backends` picks the concrete storage, blob store, bus, presence
registry and counters; `service_factories` builds the services that come from settings
alone; `node` wires every service of a process (`Node`) and starts and stops them in
order; `bus_receiver` routes what the bus delivers; `http_app` builds the aiohttp
application (routes, headers, the web client's files); `process` runs a node as the
server process (`serve`). Importers use `semot.app` only.
"""

from __future__ import annotations

from semot.app.backends import (
    make_blobs,
    make_bus,
    make_counters,
    make_ldap_store,
    make_presence_registry,
    make_storage,
)
from semot.app.bus_receiver import NodeReceiver
from semot.app.http_app import NODE, WEB_DIR, AppState, build_app
from semot.app.node import Node
from semot.app.process import serve
from semot.app.service_factories import client_config, make_abuse_guard, make_api_keys, make_files, make_ldap

__all__ = [
    "NODE",
    "WEB_DIR",
    "AppState",
    "Node",
    "NodeReceiver",
    "build_app",
    "client_config",
    "make_abuse_guard",
    "make_api_keys",
    "make_blobs",
    "make_bus",
    "make_counters",
    "make_files",
    "make_ldap",
    "make_ldap_store",
    "make_presence_registry",
    "make_storage",
    "serve",
]
