"""The Python SDK's files against a real server: tus uploads with progress and a token
renewed mid-way, uploads cut by the network (a proxy that drops the connection) that
resume where the server's offset says, in the same call or in a fresh client from a
stored URL, resumable downloads, and file messages sent, received and forwarded."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import uuid
import wave
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from semot.client import SemotAPIError, SemotClient, TransferFailed, UploadStore
from tests.support.server import ServerProcess

PASSWORD = "password123"
FAST = {"backoff_base": 0.02, "backoff_max": 0.2}  # retries in milliseconds, not seconds


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("sdkfiles") / "data").start()
    try:
        yield srv
    finally:
        srv.kill()


async def login(base: str, name: str, **kw: object) -> SemotClient:
    c = SemotClient(base, **{**FAST, **kw})  # type: ignore[arg-type]
    try:
        await c.register(name, PASSWORD)
    except SemotAPIError as exc:
        if exc.code != "conflict":
            raise
    await c.login(name, PASSWORD)
    return c


def uniq(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class CuttingProxy:
    """A TCP proxy to the server that aborts the connection in flight (both sides, as a
    network failure would) when the bytes sent upstream (client to server) or downstream
    pass a threshold; each threshold fires once. It counts what went through."""

    def __init__(self, port: int, *, cut_up: list[int] | None = None, cut_down: list[int] | None = None) -> None:
        self.port = port
        self.thresholds = {"up": sorted(cut_up or []), "down": sorted(cut_down or [])}
        self.sent = {"up": 0, "down": 0}
        self.cuts = 0
        self._server: asyncio.Server | None = None

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, way: str,
                    both: list[asyncio.StreamWriter]) -> None:
        try:
            while data := await src.read(65536):
                pending = self.thresholds[way]
                if pending and self.sent[way] + len(data) >= pending[0]:
                    keep = pending.pop(0) - self.sent[way]
                    dst.write(data[:keep])
                    self.sent[way] += keep
                    self.cuts += 1
                    for w in both:
                        w.transport.abort()
                    return
                dst.write(data)
                self.sent[way] += len(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            for w in both:
                w.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        both = [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer, "up", both), self._pipe(up_reader, writer, "down", both))

    @asynccontextmanager
    async def running(self) -> AsyncIterator[CuttingProxy]:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        try:
            yield self
        finally:
            self._server.close()


def png(w: int = 64, h: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 90)).save(out, "PNG")
    return out.getvalue()


def wav(ms: int = 500) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * (8 * ms))
    return out.getvalue()


async def test_upload_reports_progress_renews_the_token_and_stores_the_exact_bytes(
    server: ServerProcess, tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 123)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    alice = await login(server.base, uniq("a"))
    seen: list[tuple[int, int]] = []

    def progress(sent: int, total: int) -> None:
        seen.append((sent, total))
        if len(seen) == 3:
            alice.access_token = "expired-" + (alice.access_token or "")  # the next PATCH is a 401

    try:
        info = await alice.upload(path, on_progress=progress, chunk_size=512 * 1024)
        assert (info.name, info.size, info.sha256) == ("blob.bin", len(data), sha(data))
        assert info.mime == "application/octet-stream"
        assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
        assert [s for s, _ in seen] == sorted(s for s, _ in seen) and len(seen) >= 8
        assert not alice.access_token.startswith("expired-")  # type: ignore[union-attr]
        assert await alice.file_info(info.file_id) == info
        out = io.BytesIO()
        assert await alice.download(info.file_id, out) == len(data)
        assert out.getvalue() == data
        # a small file is one request (creation-with-upload), and an empty one works too
        small = await alice.upload(io.BytesIO(b"hello"), name="hi.txt")
        assert (small.name, small.size, small.mime) == ("hi.txt", 5, "text/plain")
        empty = await alice.upload(io.BytesIO(b""), name="empty")
        assert empty.size == 0 and empty.sha256 == sha(b"")
    finally:
        await alice.close()


async def test_an_upload_cut_by_the_network_resumes_from_the_servers_offset(server: ServerProcess) -> None:
    data = os.urandom(4 * 1024 * 1024)
    chunk = 256 * 1024
    async with CuttingProxy(server.port, cut_up=[1_500_000, 2_900_000]).running() as proxy:
        alice = await login(proxy.base, uniq("a"))
        proxy.sent["up"] = 0  # count (and cut) the upload's bytes only
        seen: list[int] = []
        try:
            info = await alice.upload(io.BytesIO(data), name="cut.bin", chunk_size=chunk,
                                      on_progress=lambda s, t: seen.append(s))
        finally:
            await alice.close()
    assert proxy.cuts == 2
    assert info.sha256 == sha(data) and info.size == len(data)
    # resumed, not restarted: each cut costs at most the chunk in flight (plus headers)
    assert proxy.sent["up"] < len(data) + 2 * chunk + 64 * 1024, proxy.sent
    assert seen[-1] == len(data) and seen == sorted(seen)  # offsets the server confirmed: never back
    bob = await login(server.base, uniq("b"))
    try:
        with pytest.raises(SemotAPIError) as err:  # not his file
            await bob.download(info.file_id, io.BytesIO())
        assert err.value.status in (403, 404)
    finally:
        await bob.close()


async def test_an_upload_rides_out_a_server_restart(tmp_path: Path) -> None:
    """Refused connections for seconds, then the offset the restarted server reports."""
    srv = ServerProcess(tmp_path / "data").start()
    data = os.urandom(4 * 1024 * 1024)
    seen: list[int] = []
    restarted: list[asyncio.Task[ServerProcess]] = []
    try:
        alice = await login(srv.base, "alice", backoff_max=0.5)  # a restart on a busy machine: seconds

        async def progress(sent: int, total: int) -> None:
            seen.append(sent)
            if sent >= 1024 * 1024 and not restarted:  # the server goes down between two chunks
                assert await asyncio.to_thread(srv.stop) == 0
                restarted.append(asyncio.create_task(asyncio.to_thread(srv.start)))

        try:
            info = await alice.upload(io.BytesIO(data), name="r.bin", chunk_size=128 * 1024, retries=400,
                                      on_progress=progress)
            await restarted[0]
        finally:
            await alice.close()
        assert info.sha256 == sha(data) and info.size == len(data)
        assert len(seen) > len(set(seen)), seen  # the offset was asked again (HEAD) after the restart
        assert "Traceback" not in Path(srv.log_path).read_text()
    finally:
        srv.kill()


async def test_an_upload_resumes_in_a_fresh_client_from_the_store_or_its_url(
    server: ServerProcess, tmp_path: Path
) -> None:
    name = uniq("a")
    data = os.urandom(2 * 1024 * 1024 + 7)
    path = tmp_path / "photo.raw"
    path.write_bytes(data)
    store = tmp_path / "uploads.json"
    async with CuttingProxy(server.port, cut_up=[1_200_000]).running() as proxy:
        first = await login(proxy.base, name)
        proxy.sent["up"] = 0
        try:
            with pytest.raises(TransferFailed) as failed:
                await first.upload(path, store=store, chunk_size=256 * 1024, retries=0)
        finally:
            await first.close()
    assert failed.value.code == "unavailable" and failed.value.url and failed.value.offset >= 1_048_576
    assert list(UploadStore(store)._load().values()) == [urlsplit(failed.value.url).path]  # stored as a path

    # another process, later: the same file and store resume the same upload
    second = await login(server.base, name)
    seen: list[int] = []
    try:
        info = await second.upload(path, store=store, chunk_size=256 * 1024, on_progress=lambda s, t: seen.append(s))
        assert seen[0] == failed.value.offset  # from HEAD, not from 0
        assert info.sha256 == sha(data) and failed.value.url.endswith("/" + info.file_id)
        assert UploadStore(store)._load() == {}  # done: forgotten
    finally:
        await second.close()

    # or by the URL the failure carried (the application kept it)
    async with CuttingProxy(server.port, cut_up=[700_000]).running() as proxy:
        first = await login(proxy.base, name)
        proxy.sent["up"] = 0
        try:
            with pytest.raises(TransferFailed) as failed:
                await first.upload(io.BytesIO(data), chunk_size=256 * 1024, retries=0)
        finally:
            await first.close()
    third = await login(server.base, name)
    seen.clear()
    try:
        # the proxy is gone: the same upload by its path on the server (an absolute URL works as well)
        kept = urlsplit(failed.value.url).path
        info = await third.upload(io.BytesIO(data), resume_url=kept, on_progress=lambda s, t: seen.append(s))
        assert seen[0] == failed.value.offset > 0 and info.sha256 == sha(data)
        # a resume URL that is not (or no longer) an upload of these bytes: a new upload
        other = await third.upload(io.BytesIO(b"other bytes"), resume_url=server.base + kept)
        assert other.file_id != info.file_id and other.sha256 == sha(b"other bytes")
    finally:
        await third.close()


async def test_downloads_resume_a_partial_file_and_a_cut_connection(server: ServerProcess, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024)
    name = uniq("a")
    alice = await login(server.base, name)
    try:
        info = await alice.upload(io.BytesIO(data), name="big.bin")
    finally:
        await alice.close()
    dest = tmp_path / "big.bin"
    dest.write_bytes(data[:1_000_000])  # what an earlier, interrupted run left
    async with CuttingProxy(server.port).running() as proxy:
        alice = await login(proxy.base, name)
        proxy.sent["down"] = 0
        proxy.thresholds["down"] = [1_000_000]  # and this run is cut too
        seen: list[tuple[int, int]] = []

        async def progress(sent: int, total: int) -> None:  # a coroutine works as well
            seen.append((sent, total))

        try:
            size = await alice.download(info.file_id, dest, on_progress=progress)
        finally:
            await alice.close()
    assert size == len(data) and dest.read_bytes() == data
    assert proxy.cuts == 1 and seen[0] == (1_000_000, len(data)) and seen[-1] == (len(data), len(data))
    assert proxy.sent["down"] < len(data) - 1_000_000 + 1_100_000  # neither attempt started from 0

    # a file that is complete already costs nothing but a check; a corrupt prefix is caught
    alice = await login(server.base, name)
    try:
        assert await alice.download(info.file_id, dest) == len(data)
        dest.write_bytes(b"\0" * 1000)
        with pytest.raises(TransferFailed) as bad:
            await alice.download(info.file_id, dest)
        assert bad.value.code == "internal" and dest.stat().st_size == 0  # emptied: the next try starts clean
        assert await alice.download(info.file_id, dest) == len(data) and dest.read_bytes() == data
        # a file object standing at its end continues too
        held = io.BytesIO(data[:5000])
        held.seek(0, io.SEEK_END)
        assert await alice.download(info.file_id, held) == len(data) and held.getvalue() == data
    finally:
        await alice.close()


async def test_file_messages_arrive_with_urls_that_work_without_a_token(server: ServerProcess) -> None:
    """Needs the server side of file messages (PROTOCOL.md §6, services/attachments.py)."""
    a_name, b_name, c_name = uniq("a"), uniq("b"), uniq("c")
    alice = await login(server.base, a_name)
    bob = await login(server.base, b_name)
    carol = await login(server.base, c_name)
    anonymous = SemotClient(server.base)
    picture, doc, voice = png(), b"%s\n" % b"report " * 100, wav(500)
    try:
        await alice.connect()
        await bob.connect()
        await carol.connect()
        img = await alice.upload(io.BytesIO(picture), name="cat.png")
        assert (img.mime, img.w, img.h) == ("image/png", 64, 48)
        ack = await alice.send_image(b_name, img)
        assert ack["seq"] >= 1
        doc_info = await alice.upload(io.BytesIO(doc), name="report.txt")
        await alice.send_file(b_name, doc_info.file_id)
        voice_info = await alice.upload(io.BytesIO(wav(500)), name="hello.wav")
        await alice.send_voice(b_name, voice_info.file_id, 500)

        own = [await alice.next_message(10) for _ in range(3)]  # the sender's own copies: the stored bodies
        assert [m["kind"] for m in own] == ["image", "file", "voice"] and own[0]["seq"] == ack["seq"]
        assert own[0]["body"]["url"] and own[1]["body"]["name"] == "report.txt"

        got = {}
        while len(got) < 3:
            m = await bob.next_message(10)
            got[m["kind"]] = m
        body = got["image"]["body"]
        assert body["file_id"] == img.file_id and (body["w"], body["h"], body["size"]) == (64, 48, len(picture))
        assert body["url"] and body["thumb_url"]
        out = io.BytesIO()
        assert await anonymous.download(got["image"], out) == len(picture) and out.getvalue() == picture
        fbody = got["file"]["body"]
        assert (fbody["name"], fbody["size"], fbody["mime"]) == ("report.txt", len(doc), "text/plain")
        out = io.BytesIO()
        await anonymous.download(fbody["url"], out)
        assert out.getvalue() == doc
        assert got["voice"]["body"]["duration_ms"] == 500 and got["voice"]["body"]["url"]
        out = io.BytesIO()
        await anonymous.download(got["voice"], out)
        assert out.getvalue() == voice

        # carol cannot read alice's file until someone forwards it to her
        with pytest.raises(SemotAPIError):
            await carol.file_info(img.file_id)
        await bob.forward(got["image"], c_name)
        await bob.forward(got["file"], c_name)
        fwd = {}
        while len(fwd) < 2:
            m = await carol.next_message(10)
            fwd[m["kind"]] = m
        assert fwd["image"]["from"] == b_name and fwd["image"]["body"]["file_id"] == img.file_id
        out = io.BytesIO()
        await carol.download(fwd["image"], out)  # by its signed URL
        assert out.getvalue() == picture
        out = io.BytesIO()
        await carol.download(fwd["file"]["body"]["file_id"], out)  # and with her own token
        assert out.getvalue() == doc
        # a signature that no longer holds (expired, here forged): the file id and her token
        stale = {**fwd["file"], "body": {**fwd["file"]["body"], "url": fwd["file"]["body"]["url"] + "x"}}
        out = io.BytesIO()
        await carol.download(stale, out)
        assert out.getvalue() == doc
        with pytest.raises(SemotAPIError) as err:  # without a token nothing opens it
            await anonymous.download(stale, io.BytesIO())
        assert err.value.status in (401, 403, 404)
        assert (await carol.file_info(img.file_id)).sha256 == sha(picture)
    finally:
        for c in (alice, bob, carol, anonymous):
            await c.close()


async def test_forwarding_rules_and_bad_file_messages(server: ServerProcess) -> None:
    a_name, b_name = uniq("a"), uniq("b")
    alice = await login(server.base, a_name)
    bob = await login(server.base, b_name)
    try:
        await alice.connect()
        await bob.connect()
        text = {"kind": "text", "body": {"text": "hi @x", "mentions": ["x"]}, "opts": {}}
        await alice.forward(text, b_name)
        assert (await bob.next_message(10))["body"] == {"text": "hi @x"}  # mentions stay behind
        for refused in ({"kind": "recalled", "body": {}}, {"kind": "system", "body": {"type": "recalled"}},
                        {"kind": "text", "body": {"text": "secret"}, "opts": {"burn_s": 5}}):
            with pytest.raises(SemotAPIError):
                await alice.forward(refused, b_name)
        not_an_image = await alice.upload(io.BytesIO(b"plain text"), name="a.txt")
        with pytest.raises(SemotAPIError) as err:
            await alice.send_image(b_name, not_an_image)
        assert err.value.code == "bad_request"
        with pytest.raises(SemotAPIError) as err:
            await alice.send_file(b_name, "no-such-file")
        assert err.value.code == "bad_request"
    finally:
        await alice.close()
        await bob.close()
