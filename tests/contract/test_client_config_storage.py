"""The client configuration document on every backend (memory, SQLite, PostgreSQL): none
until one is saved, every write a new version, an editor's expected version refused
once someone else has written, concurrent writers each getting a version of their own."""

from __future__ import annotations

import asyncio

import pytest

from semot.storage.base import Storage

pytestmark = pytest.mark.asyncio


async def test_nothing_stored_until_the_first_write(storage: Storage) -> None:
    cc = storage.client_config
    assert await cc.get_client_config() is None
    assert await cc.client_config_version() == 0
    doc = {"product_name": "校园通", "features": {"recall": False}, "quick_phrases": ["收到", "好的 👍"]}
    stored = await cc.put_client_config(doc, expected_version=0, updated_by="root", now=1000)
    assert stored is not None and (stored.version, stored.updated_at, stored.updated_by) == (1, 1000, "root")
    got = await cc.get_client_config()
    assert got is not None
    assert (got.doc, got.version, got.updated_at, got.updated_by) == (doc, 1, 1000, "root")
    assert await cc.client_config_version() == 1


async def test_versions_grow_and_a_stale_editor_is_refused(storage: Storage) -> None:
    cc = storage.client_config
    assert (await cc.put_client_config({"a": 1}, expected_version=None, updated_by=None, now=1)) is not None
    second = await cc.put_client_config({"a": 2}, expected_version=1, updated_by="x", now=2)
    assert second is not None and second.version == 2
    # an editor who started from version 1 (or from nothing) does not overwrite version 2
    assert await cc.put_client_config({"a": 3}, expected_version=1, updated_by="y", now=3) is None
    assert await cc.put_client_config({"a": 3}, expected_version=0, updated_by="y", now=3) is None
    got = await cc.get_client_config()
    assert got is not None and (got.doc, got.version, got.updated_by) == ({"a": 2}, 2, "x")
    # without an expected version the write always lands
    third = await cc.put_client_config({"a": 4}, expected_version=None, updated_by="z", now=4)
    assert third is not None and third.version == 3


async def test_the_stored_document_is_a_copy(storage: Storage) -> None:
    cc = storage.client_config
    doc = {"pages": [{"title": "课表", "url": "https://school.example/t"}]}
    await cc.put_client_config(doc, expected_version=None, updated_by=None, now=1)
    doc["pages"].clear()
    got = await cc.get_client_config()
    assert got is not None and got.doc["pages"] == [{"title": "课表", "url": "https://school.example/t"}]
    got.doc["pages"].clear()
    again = await cc.get_client_config()
    assert again is not None and len(again.doc["pages"]) == 1


async def test_concurrent_first_writers_each_get_their_own_version(storage: Storage) -> None:
    cc = storage.client_config
    results = await asyncio.gather(
        *(cc.put_client_config({"n": i}, expected_version=None, updated_by=f"a{i}", now=i) for i in range(6))
    )
    assert sorted(r.version for r in results if r is not None) == [1, 2, 3, 4, 5, 6]
    got = await cc.get_client_config()
    assert got is not None and got.version == 6


async def test_of_editors_starting_from_one_version_exactly_one_wins(storage: Storage) -> None:
    cc = storage.client_config
    await cc.put_client_config({"n": 0}, expected_version=None, updated_by=None, now=0)
    results = await asyncio.gather(
        *(cc.put_client_config({"n": i}, expected_version=1, updated_by=None, now=i) for i in range(1, 6))
    )
    assert [r.version for r in results if r is not None] == [2]
    assert await cc.client_config_version() == 2
