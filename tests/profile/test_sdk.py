"""The Python SDK's profile calls: update_me (name, avatar) and change_password."""

from __future__ import annotations

import io
import uuid

import pytest

from semot.client import SemotAPIError, SemotClient
from tests.integration.harness import ServerProcess
from tests.profile.conftest import image


async def test_python_sdk_profile(server: ServerProcess) -> None:
    name = f"sdk{uuid.uuid4().hex[:8]}"
    c = SemotClient(server.base_url)
    await c.register(name, "password123")
    await c.login(name, "password123")
    other = SemotClient(server.base_url)
    await other.login(name, "password123")
    try:
        info = await c.upload(io.BytesIO(image("JPEG")), name="me.jpg")
        me = await c.update_me(display_name="SDK user", avatar_file_id=info.file_id)
        assert me["display_name"] == "SDK user" and me["avatar_url"].startswith(f"/api/v1/users/{name}/avatar?")
        me = await c.update_me(display_name="SDK user 2")  # the avatar stays
        assert me["avatar_url"] and me["display_name"] == "SDK user 2"
        assert (await c.update_me(avatar_file_id=None))["avatar_url"] is None
        with pytest.raises(SemotAPIError) as err:
            await c.change_password("wrong-password", "a-new-password")
        assert err.value.status == 403
        await c.change_password("password123", "a-new-password")
        await c.http("GET", "/api/v1/me")  # still signed in
        with pytest.raises(SemotAPIError):
            await other.refresh()  # the other login ended
    finally:
        await c.close()
        await other.close()
