"""Helpers of the backup tests: a tus upload and a download's sha256, against a real server."""

from __future__ import annotations

import hashlib
import io

import aiohttp
from tusclient import client as tus

FILES = "/api/v1/files/"


def tus_upload(base: str, token: str, data: bytes) -> str:
    c = tus.TusClient(base + FILES, headers={"Authorization": f"Bearer {token}"})
    up = c.uploader(file_stream=io.BytesIO(data), chunk_size=256 * 1024,
                    metadata={"filename": "blob.bin", "filetype": "application/octet-stream"})
    up.upload()
    assert up.url is not None
    return str(up.url).rsplit("/", 1)[1]


async def download(base: str, token: str, file_id: str) -> str:
    async with aiohttp.ClientSession() as s, s.get(f"{base}{FILES}{file_id}/content",
                                                    headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200, (file_id, r.status)
        return hashlib.sha256(await r.read()).hexdigest()
