"""Helpers of the file tests: accounts on a real server, tus requests, a cut upload."""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import time
import uuid
from dataclasses import dataclass

import requests
from tusclient import client as tus

from tests.support.server import ServerProcess

PASSWORD = "correct-horse-9"
FILES = "/api/v1/files/"


@dataclass
class User:
    server: ServerProcess
    user_id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def tus(self, **headers: str) -> dict[str, str]:
        return {"Tus-Resumable": "1.0.0", **self.auth, **headers}

    def uploader(self, data: bytes, *, url: str | None = None, **kw: object) -> tus.Uploader:
        """The reference client (tuspy) for `data`, new or resuming `url`."""
        c = tus.TusClient(self.server.base + FILES, headers=self.auth)
        return c.uploader(file_stream=io.BytesIO(data), url=url, **kw)  # type: ignore[arg-type]

    def upload(self, data: bytes, name: str = "file.bin", filetype: str = "application/octet-stream") -> str:
        up = self.uploader(data, chunk_size=1 << 20, metadata={"filename": name, "filetype": filetype})
        up.upload()
        assert up.url is not None
        return str(up.url).rsplit("/", 1)[1]

    def create(self, length: int, **headers: str) -> str:
        r = requests.post(self.server.base + FILES, headers=self.tus(**{"Upload-Length": str(length), **headers}))
        assert r.status_code == 201, (r.status_code, r.text)
        return r.headers["Location"].rsplit("/", 1)[1]

    def head(self, file_id: str) -> requests.Response:
        return requests.head(self.server.base + FILES + file_id, headers=self.tus())

    def patch(self, file_id: str, offset: int, body: bytes, **headers: str) -> requests.Response:
        h = self.tus(**{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream", **headers})
        return requests.patch(self.server.base + FILES + file_id, data=body, headers=h)

    def get(self, file_id: str, what: str = "content", **headers: str) -> requests.Response:
        return requests.get(f"{self.server.base}{FILES}{file_id}/{what}", headers={**self.auth, **headers})


def account(server: ServerProcess) -> User:
    name = f"u{uuid.uuid4().hex[:10]}"
    r = requests.post(server.base + "/api/v1/auth/register", json={"username": name, "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = requests.post(server.base + "/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    return User(server, r.json()["user_id"], r.json()["access_token"])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checksum(algo: str, data: bytes) -> str:
    return f"{algo} {base64.b64encode(hashlib.new(algo, data).digest()).decode()}"


def cut_patch(user: User, file_id: str, offset: int, data: bytes, send: int, extra: str = "") -> None:
    """A PATCH announcing all of `data` whose connection drops after `send` bytes of it
    (`extra`: more header lines, each ending with CRLF)."""
    head = (
        f"PATCH {FILES}{file_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n{extra}"
        f"Authorization: Bearer {user.token}\r\nUpload-Offset: {offset}\r\n"
        f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", user.server.port)) as s:
        s.sendall(head + data[:send])
        time.sleep(0.2)


def wait_offset(user: User, file_id: str, want: int, timeout: float = 10.0) -> int:
    """The offset HEAD reports once the server has noticed a dropped PATCH."""
    deadline = time.monotonic() + timeout
    got = -1
    while time.monotonic() < deadline:
        got = int(user.head(file_id).headers["Upload-Offset"])
        if got == want:
            return got
        time.sleep(0.05)
    return got
