"""Thumbnails of 12-megapixel JPEGs (issue 10), and whether text messages slow down
while the server makes them.

The photos are generated with Pillow so they compress like a camera's: smooth colour
fields (a tiny random image scaled up) under per-channel Gaussian noise, quality 88,
with EXIF (orientation, camera model): 3-4 MB each, as a phone's 12 MP picture. Copies
differ by a JPEG comment segment only (same pixels, another sha256), so a server that
reused thumbnails per content would still make every one.

To time the thumbnail and not the upload, each photo is uploaded except its last byte
beforehand; the final 1-byte PATCH completes it (a server that thumbnails on completion
starts there), then `GET /thumb` is asked for until it answers 200 (a server that
thumbnails on demand starts there). Both designs are timed from the same moment.

The text sends are the direct load of loads.py, smaller: paced open loop, send-to-receive
latency at the recipient, on connections opened once and used for every phase, so the
phases with and without thumbnails differ in nothing else.
"""

from __future__ import annotations

import asyncio
import io
import random
import time
from typing import Any

import aiohttp
import orjson

from files_http import FILES, Watch, pct, tus_create, tus_headers
from server import user_id
from wsclient import WSClient, connect_many

_M = ord("m")
_R = ord("r")


# --- photos ----------------------------------------------------------------------------------


def photo(w: int = 4000, h: int = 3000, seed: int = 1, sigma: float = 50.0, quality: int = 88) -> bytes:
    """A JPEG that compresses like a photograph (see the module docstring)."""
    from PIL import Image

    rnd = random.Random(seed)
    sw, sh = max(2, w // 100), max(2, h // 100)
    base = Image.frombytes("RGB", (sw, sh), rnd.randbytes(sw * sh * 3)).resize((w, h), Image.Resampling.BICUBIC)
    noise = Image.merge("RGB", [Image.effect_noise((w, h), sigma) for _ in range(3)])
    img = Image.blend(base, noise, 0.22)
    exif = Image.Exif()
    exif[0x0112] = 1  # orientation
    exif[0x010F] = "Semot"  # make
    exif[0x0110] = "Benchmark Camera"  # model
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()


def variant(jpeg: bytes, n: int) -> bytes:
    """The same picture with a comment segment naming `n`: other bytes, same pixels."""
    text = f"semot benchmark copy {n}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


# --- uploads that wait for their last byte -----------------------------------------------------


class Pending:
    """An upload holding all but the last byte of `data`; `finish` sends that byte."""

    def __init__(self, url: str, data: bytes) -> None:
        self.url = url
        self.data = data
        self.file_id = url.rsplit("/", 1)[1]

    @classmethod
    async def start(cls, s: aiohttp.ClientSession, base: str, token: str, data: bytes, name: str) -> Pending:
        url = await tus_create(s, base, token, len(data), name, "image/jpeg")
        h = tus_headers(token, **{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
        async with s.patch(url, data=data[:-1], headers=h) as r:
            if r.status != 204:
                raise RuntimeError(f"PATCH: {r.status} {await r.text()}")
        return cls(url, data)

    async def finish(self, s: aiohttp.ClientSession, token: str) -> None:
        h = tus_headers(token, **{"Upload-Offset": str(len(self.data) - 1),
                                  "Content-Type": "application/offset+octet-stream"})
        async with s.patch(self.url, data=self.data[-1:], headers=h) as r:
            if r.status != 204:
                raise RuntimeError(f"final PATCH: {r.status} {await r.text()}")


async def thumb_route_exists(base: str) -> bool:
    """Whether the server publishes GET /api/v1/files/{file_id}/thumb in its OpenAPI document."""
    async with aiohttp.ClientSession() as s, s.get(base + "/openapi.json") as r:
        if r.status != 200:
            return False
        doc = await r.json()
    return any(p.endswith("/thumb") and "get" in ops for p, ops in doc.get("paths", {}).items())


async def await_thumb(s: aiohttp.ClientSession, base: str, token: str, file_id: str, timeout: float = 60.0,
                      poll: float = 0.05) -> dict[str, Any]:
    """GET /thumb until it is 200 (a thumbnail still being made may be 202/404/409/503)."""
    url = f"{base}{FILES}{file_id}/thumb"
    deadline = time.perf_counter() + timeout
    tries = 0
    while True:
        tries += 1
        async with s.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
            body = await r.read()
            if r.status == 200:
                return {"tries": tries, "bytes": len(body), "type": r.headers.get("Content-Type", ""),
                        "size": _image_dims(body)}
            last = r.status
        if time.perf_counter() > deadline:
            raise RuntimeError(f"no thumbnail for {file_id} after {timeout:.0f} s (last status {last})")
        await asyncio.sleep(poll)


def _image_dims(body: bytes) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(body)) as img:
            return img.size
    except OSError:
        return None


async def make_thumbs(s: aiohttp.ClientSession, base: str, token: str, batch: list[Pending]) -> dict[str, Any]:
    """Complete every upload of `batch` at once and wait for all their thumbnails."""
    t0 = time.perf_counter()
    done: list[float] = []
    finished: list[float] = []

    async def one(p: Pending) -> dict[str, Any]:
        await p.finish(s, token)
        finished.append(time.perf_counter() - t0)
        got = await await_thumb(s, base, token, p.file_id)
        done.append(time.perf_counter() - t0)
        return got

    got = await asyncio.gather(*(one(p) for p in batch))
    return {"n": len(batch), "all_ready_s": max(done), "first_ready_s": min(done),
            "completion_patch_max_s": max(finished), "thumb": got[0], "polls": sum(g["tries"] for g in got)}


# --- text sends ----------------------------------------------------------------------------------


class Chat:
    """`pairs` pairs of users over the raw WebSocket client, each sending to its partner."""

    def __init__(self, port: int, tokens: list[str], pairs: int) -> None:
        self.port = port
        self.tokens = tokens[: 2 * pairs]
        self.partner = [user_id(i ^ 1) for i in range(2 * pairs)]
        self.clients: list[WSClient] = []
        self.rid = 0
        self.lat: list[int] = []
        self.acks = 0
        self.errors = 0
        self.recv = 0

    async def open(self) -> None:
        self.clients = await connect_many(self.port, self.tokens)
        for c in self.clients:
            c.state = {}
            c.on_frame = self._on_frame
        for i in range(len(self.clients)):  # warm-up: creates the direct conversations
            self._send(i)
        await self._drain(len(self.clients), 15)

    def close(self) -> None:
        for c in self.clients:
            c.close()

    def _on_frame(self, c: WSClient, payload: bytes) -> None:
        now = time.time_ns()
        kind = payload[6]
        if kind == _M:
            o = orjson.loads(payload)
            self.lat.append(now - int(o["body"]["text"][:19]))
            self.recv += 1
        elif kind == _R:
            o = orjson.loads(payload)
            if o["ok"]:
                self.acks += 1
            else:
                self.errors += 1

    def _send(self, i: int) -> None:
        self.rid += 1
        now = time.time_ns()
        self.clients[i].send(orjson.dumps({
            "t": "send", "rid": self.rid, "cid": f"fb{self.rid}", "to": self.partner[i], "kind": "text",
            "body": {"text": f"{now:019d} semot file benchmark, a text message sent meanwhile"},
        }))

    async def _drain(self, expected: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.acks + self.errors >= expected and self.recv >= self.acks:
                return
            await asyncio.sleep(0.005)

    async def measure(self, rate: float, until: asyncio.Future[Any] | float) -> dict[str, Any]:
        """Paced sends at `rate` msg/s until `until` (seconds, or a future that finishes);
        latency from the send to the recipient's arrival."""
        self.lat.clear()
        self.acks = self.errors = self.recv = 0
        n = len(self.clients)
        t0 = time.perf_counter()
        k = 0
        while True:
            elapsed = time.perf_counter() - t0
            if (elapsed >= until) if isinstance(until, float) else until.done():
                break
            while k < elapsed * rate:
                self._send(k % n)
                k += 1
            await asyncio.sleep(max(0.0, (k / rate) - (time.perf_counter() - t0)))
        seconds = time.perf_counter() - t0
        await self._drain(k, 15)
        lat = sorted(x / 1e6 for x in self.lat)
        return {"sent": k, "received": self.recv, "errors": self.errors, "seconds": seconds,
                "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "max_ms": lat[-1] if lat else float("nan")}


async def thumbnails(pid: int, base: str, port: int, token: str, tokens: list[str], *, rounds: int, pairs: int,
                     rate: float, seconds: float) -> dict[str, Any]:
    """One thumbnail alone (time, server memory), then text sends without thumbnails,
    with rounds of 10 thumbnails at once, and without again."""
    out: dict[str, Any] = {}
    t = time.perf_counter()
    jpeg = await asyncio.to_thread(photo)
    out["photo_mb"] = len(jpeg) / 1e6
    out["photo_gen_s"] = time.perf_counter() - t
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=50)) as s:
        print(f"  thumbnails: uploading {1 + 10 * rounds} photos of {len(jpeg) / 1e6:.1f} MB ...", flush=True)
        single = await Pending.start(s, base, token, variant(jpeg, 0), "single.jpg")
        sets = [[await Pending.start(s, base, token, variant(jpeg, 1 + 10 * r + i), f"p{r}-{i}.jpg")
                 for i in range(10)] for r in range(rounds)]
        with Watch(pid, interval=0.02) as w:  # a thumbnail is a fraction of a second: sample faster
            one = await make_thumbs(s, base, token, [single])
        out["single"] = {**one, "server_cpu_s": w.cpu_s,
                         "rss_peak_over_baseline_mib": (w.peak_kib - w.baseline_kib) / 1024,
                         "rss_baseline_mib": w.baseline_kib / 1024}

        chat = Chat(port, tokens, pairs)
        await chat.open()
        try:
            print(f"  thumbnails: text sends at {rate:.0f}/s, without / with / without thumbnails ...", flush=True)
            out["sends_before"] = await chat.measure(rate, seconds)
            batches: list[dict[str, Any]] = []

            async def busy() -> None:
                t0 = time.perf_counter()
                for batch in sets:
                    batches.append(await make_thumbs(s, base, token, batch))
                    if time.perf_counter() - t0 >= seconds:
                        break

            with Watch(pid, interval=0.05) as w:
                task = asyncio.ensure_future(busy())
                out["sends_during"] = await chat.measure(rate, task)
                await task
            out["sends_after"] = await chat.measure(rate, out["sends_during"]["seconds"])
        finally:
            chat.close()
        out["rounds"] = batches
        out["during"] = {"server_cpu_s": w.cpu_s, "seconds": w.seconds,
                         "rss_peak_over_baseline_mib": (w.peak_kib - w.baseline_kib) / 1024}
        quiet = [out["sends_before"]["p99_ms"], out["sends_after"]["p99_ms"]]
        out["p99_ratio"] = out["sends_during"]["p99_ms"] / (sum(quiet) / 2)  # to the mean of the quiet phases
        out["p99_ratio_vs_best"] = out["sends_during"]["p99_ms"] / min(quiet)
        quiet50 = [out["sends_before"]["p50_ms"], out["sends_after"]["p50_ms"]]
        out["p50_ratio"] = out["sends_during"]["p50_ms"] / (sum(quiet50) / 2)  # steadier on a noisy machine
    return out
