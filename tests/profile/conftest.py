"""A real server for the profile tests, and helpers: accounts, tus uploads, images."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from tusclient import client as tus

from tests.integration.harness import Account, Api, ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("profile") / "data")
    srv.start()
    try:
        yield srv
    finally:
        assert srv.stop() == 0
        log = srv.log_path.read_text(errors="replace")
        assert "Traceback" not in log and "failed its schema" not in log, log[-3000:]




def image(fmt: str = "PNG", size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'


async def upload(server: ServerProcess, who: Account, data: bytes, name: str = "a.png") -> str:
    """A complete upload through tuspy, the reference tus client; its file id."""

    def go() -> str:
        c = tus.TusClient(server.base_url + "/api/v1/files/", headers={"Authorization": f"Bearer {who.access_token}"})
        up = c.uploader(file_stream=io.BytesIO(data), chunk_size=1 << 20,
                        metadata={"filename": name, "filetype": "image/png"})
        up.upload()
        assert up.url is not None
        return str(up.url).rsplit("/", 1)[1]

    return await asyncio.to_thread(go)


async def ok(api: Api, server: ServerProcess, who: Account, method: str, path: str, body: Any = None) -> Any:
    status, reply = await api.call(server, method, path, body, token=who.access_token)
    assert status in (200, 201), (method, path, status, reply)
    return reply


async def befriend(api: Api, server: ServerProcess, a: Account, b: Account) -> None:
    req = await ok(api, server, a, "POST", "/api/v1/friends/requests", {"user_id": b.user_id})
    if req.get("status") != "friends":
        await ok(api, server, b, "POST", f"/api/v1/friends/requests/{req['request_id']}", {"action": "accept"})
