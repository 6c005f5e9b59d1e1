"""The external identities store (storage/external_identities.py) in memory, on SQLite
and on PostgreSQL (migration 0025): one link per (provider, subject) and per (provider,
user), never moved silently; the departments a claim gave, remembered with the link."""

from __future__ import annotations

from semot.storage.base import Storage
from semot.storage.external_identities import ExternalIdentity
from tests.contract.conftest import storage  # noqa: F401  (the three backends)

ISS = "https://idp.example.com"


async def test_links_are_unique_per_provider(storage: Storage) -> None:
    ids = storage.external_identities
    assert await ids.get_identity(ISS, "sub-1") is None
    assert await ids.link_identity(ExternalIdentity(ISS, "sub-1", "alice", 1000))
    # the same subject again, or another subject for the same user at this provider: refused
    assert not await ids.link_identity(ExternalIdentity(ISS, "sub-1", "bob", 1001))
    assert not await ids.link_identity(ExternalIdentity(ISS, "sub-2", "alice", 1002))
    # another provider may name the same user
    assert await ids.link_identity(ExternalIdentity("https://other.example", "sub-1", "alice", 1003))
    got = await ids.get_identity(ISS, "sub-1")
    assert got == ExternalIdentity(ISS, "sub-1", "alice", 1000, None)
    await ids.touch_identity(ISS, "sub-1", 5000)
    assert (await ids.get_identity(ISS, "sub-1")) == ExternalIdentity(ISS, "sub-1", "alice", 1000, 5000)
    assert [i.provider for i in await ids.user_identities("alice")] == [ISS, "https://other.example"]
    assert await ids.unlink_identity(ISS, "sub-1")
    assert not await ids.unlink_identity(ISS, "sub-1")
    assert await ids.link_identity(ExternalIdentity(ISS, "sub-2", "alice", 1004))  # free again


async def test_the_claims_departments_are_remembered(storage: Storage) -> None:
    ids = storage.external_identities
    assert await ids.link_identity(ExternalIdentity(ISS, "sub-d", "dora", 1000))
    assert (await ids.get_identity(ISS, "sub-d")).departments == ()  # type: ignore[union-attr]
    await ids.set_departments(ISS, "sub-d", ("d_sales", "d_east"))
    got = await ids.get_identity(ISS, "sub-d")
    assert got == ExternalIdentity(ISS, "sub-d", "dora", 1000, None, ("d_sales", "d_east"))
    assert (await ids.user_identities("dora"))[0].departments == ("d_sales", "d_east")
    await ids.set_departments(ISS, "sub-d", ())
    assert (await ids.get_identity(ISS, "sub-d")).departments == ()  # type: ignore[union-attr]
    await ids.set_departments(ISS, "nobody", ("d_x",))  # no such link: nothing written
    assert await ids.get_identity(ISS, "nobody") is None
