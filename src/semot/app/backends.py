"""Which concrete storage, blob store, bus, presence registry and counters a node uses:
the only place (with the rest of `semot.app`) that names `storage.sql`, `bus.local`,
`bus.redis` and the like; everything else sees their interfaces."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from semot.bus.base import Bus
from semot.bus.local import LocalBus
from semot.bus.local_limits import LocalCounters
from semot.bus.local_presence import LocalPresence
from semot.bus.presence import PresenceRegistry
from semot.config import Settings
from semot.datadir import ensure_private_dir
from semot.storage.base import Storage
from semot.storage.batch import BatchPlan
from semot.storage.files import BlobStore
from semot.storage.ldap import LdapStorage
from semot.storage.local_files import LocalBlobStore
from semot.storage.sql.engine import make_engines
from semot.storage.sql.store import sql_storage


def make_storage(settings: Settings) -> Storage:
    if settings.is_sqlite:
        ensure_private_dir(settings.data_dir)  # 0700; the database file is created 0600 (engine.py)
    engines = make_engines(
        settings.sqlalchemy_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_size=settings.db_pool_size,
        schema=settings.database_schema,
    )
    BatchPlan.fault_cid_prefix = settings.test_fault_cid_prefix  # test-only hook; None in production
    return sql_storage(engines, schema=settings.database_schema)


def make_blobs(settings: Settings) -> BlobStore:
    """Uploaded files' bytes: a directory (several nodes may share it over a network
    filesystem), or an S3-compatible bucket (docs/files-storage.md)."""
    if settings.file_store == "s3":
        from semot.storage.s3_files import S3BlobStore
        from semot.storage.s3_layout import MAX_PARTS

        assert settings.s3_bucket is not None  # the settings check it
        secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
        # parts large enough that the largest file fits S3's 10,000 (aligned segments are then copied in S3)
        part = max(settings.s3_part_bytes, -(-settings.file_max_bytes // MAX_PARTS))
        return S3BlobStore(settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
                           region=settings.s3_region, access_key=settings.s3_access_key, secret_key=secret,
                           part_size=part, max_connections=settings.s3_max_connections)
    return LocalBlobStore(settings.files_dir or settings.data_dir / "files")


def make_bus(settings: Settings, node_id: str, registry: CollectorRegistry | None = None) -> Bus:
    """In-process on one node; Redis pub/sub when SEMOT_REDIS_URL joins several (its
    buffer's metrics in `registry`: the node's /metrics)."""
    if settings.redis_url:
        from semot.bus.redis import RedisBus
        from semot.bus.redis_conn import RedisTimeouts

        return RedisBus(
            settings.redis_url, node_id=node_id, namespace=settings.redis_namespace,
            max_pending=settings.redis_bus_buffer_max, max_age_s=settings.redis_bus_buffer_max_age_s,
            timeouts=RedisTimeouts(settings.redis_socket_timeout_s, settings.redis_health_check_s), registry=registry,
        )
    return LocalBus()


def make_presence_registry(settings: Settings, node_id: str) -> PresenceRegistry:
    """In memory on one node; in Redis, shared, when several nodes serve the same users."""
    if settings.redis_url:
        from semot.bus.redis_conn import RedisTimeouts
        from semot.bus.redis_presence import RedisPresence

        return RedisPresence(
            settings.redis_url, node_id, namespace=settings.redis_namespace, node_timeout_s=settings.node_timeout_s,
            timeouts=RedisTimeouts(settings.redis_socket_timeout_s, settings.redis_health_check_s),
        )
    return LocalPresence(node_id)


def make_counters(settings: Settings) -> Any:
    """Fixed-window counters: in memory on one node, in Redis when several share the limits."""
    if settings.redis_url:
        from semot.bus.redis_limits import RedisCounters

        return RedisCounters(settings.redis_url, namespace=settings.redis_namespace)
    return LocalCounters()


def make_ldap_store(storage: Storage) -> LdapStorage:
    """The directory sync's own records, in the same kind of storage as the rest."""
    from semot.storage.sql.database import SqlDatabase

    if isinstance(storage.database, SqlDatabase):
        from semot.storage.sql.ldap_store import SqlLdap

        return SqlLdap(storage.database)
    from semot.storage.memory.ldap import MemoryLdap

    return MemoryLdap()
