"""Received media messages and forwarding in the web client (Debian Chromium, real server).

Files are uploaded with the reference tus client (tuspy) and the messages sent by another
user over a real WebSocket (the Python SDK, in a thread of its own: Playwright's sync API
owns this one). The browser loads everything through the signed URLs in the bodies."""

from __future__ import annotations

import asyncio
import base64
import io
import math
import os
import struct
import threading
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PIL import Image

from semot.client import SemotClient
from tests.browser.conftest import PASSWORD, direct, http_json, new_user, server_history
from tests.files.support import User
from tests.support.server import ServerProcess

# SEMOT_SHOTS=docs/screenshots saves the screens these tests pass through
SHOTS = os.environ.get("SEMOT_SHOTS")


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name))


def uploader(server: ServerProcess, user: str) -> User:
    tokens = http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})
    return User(server, user, tokens["access_token"])


def as_user(server: ServerProcess, user: str, work: Callable[[SemotClient], Awaitable[Any]]) -> Any:
    """Run `work(client)` with a connected Python SDK client of `user` (own thread and loop)."""
    out: dict[str, Any] = {}

    async def run() -> None:
        async with SemotClient(server.base) as c:
            await c.login(user, PASSWORD)
            await c.connect()
            out["value"] = await work(c)

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # reported in the test's thread
            out["error"] = exc

    th = threading.Thread(target=target)
    th.start()
    th.join(60)
    if "error" in out:
        raise out["error"]
    return out.get("value")


def send(
    server: ServerProcess, user: str, to: str, kind: str, body: dict[str, Any], opts: dict[str, Any] | None = None
) -> Any:
    return as_user(server, user, lambda c: c.send(to, kind, body, opts=opts))


def png(w: int = 400, h: int = 300, fmt: str = "PNG") -> bytes:
    img = Image.new("RGB", (w, h))
    px = img.load()
    assert px is not None
    for x in range(w):
        for y in range(0, h, 3):
            px[x, y] = (x * 255 // w, y * 255 // h, 120)
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def wav(ms: int = 2000, rate: int = 8000) -> bytes:
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(rate * ms // 1000)
    )
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


def send_upload(
    server: ServerProcess, sender: str, to: str, kind: str, data: bytes, name: str, mime: str, **extra: Any
) -> Any:
    file_id = uploader(server, sender).upload(data, name, mime)
    return send(server, sender, to, kind, {"file_id": file_id, **extra})


def msg(seq: int) -> str:
    return f"[data-testid=chat] [data-testid=message][data-seq='{seq}']"


def open_menu(page: Any, seq: int) -> None:
    page.hover(msg(seq))
    page.click(f"{msg(seq)} [data-testid=msg-menu]")


def test_a_received_image_loads_through_its_signed_url_and_opens_in_the_lightbox(
    server: ServerProcess, open_tab: Any
) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    send_upload(server, bob, alice, "image", png(400, 300), "wide.png", "image/png")
    send_upload(server, bob, alice, "image", png(120, 360, "JPEG"), "tall.jpg", "image/jpeg")
    a = open_tab(alice)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    assert (
        a.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-preview]").inner_text()
        == "[图片]"
    )
    a.open_conv(conv)
    for seq, (w, h) in ((1, (240, 180)), (2, (80, 240))):
        box = a.page.locator(f"{msg(seq)} [data-testid=media-image]")
        # sized from the body's w/h before a byte arrives, so nothing jumps
        assert box.evaluate("el => [el.offsetWidth, el.offsetHeight]") == [w, h]
        a.page.wait_for_function(f'document.querySelector("{msg(seq)} [data-testid=image-thumb]")?.naturalWidth > 0')
        assert box.evaluate("el => [el.offsetWidth, el.offsetHeight]") == [w, h]

    shot(a.page, "media-images-zh.png")
    # the lightbox: the full image, keyboard reachable, Esc and the close button
    a.page.focus(f"{msg(1)} [data-testid=image-open]")
    a.page.keyboard.press("Enter")
    lb = a.page.locator("[data-testid=lightbox]")
    lb.wait_for()
    a.page.wait_for_function("document.querySelector('[data-testid=lb-img]')?.naturalWidth === 400")
    assert a.js("document.activeElement.dataset.testid") == "lb-close"
    assert lb.get_attribute("role") == "dialog" and lb.get_attribute("aria-modal") == "true"
    href = a.page.get_attribute("[data-testid=lb-download]", "href")
    assert href and "sig=" in href
    shot(a.page, "media-lightbox-zh.png")
    a.page.click("[data-testid=lb-zoom-in]")
    assert a.page.inner_text("[data-testid=lb-zoom]").endswith("%")
    a.page.keyboard.press("Escape")
    lb.wait_for(state="detached")
    assert a.js("document.activeElement.dataset.testid") == "image-open", "focus goes back to the image"
    a.page.click(f"{msg(2)} [data-testid=image-open]")
    lb.wait_for()
    a.page.wait_for_function("document.querySelector('[data-testid=lb-img]')?.naturalHeight === 360")
    a.page.click("[data-testid=lb-close]")
    lb.wait_for(state="detached")
    a.assert_no_console_errors()


def test_an_expired_url_is_fetched_again(server: ServerProcess, open_tab: Any) -> None:
    """A body whose URLs stopped working (here: made to look expired) is fetched again
    with history, and the image loads from the fresh URLs."""
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    send_upload(server, bob, alice, "image", png(200, 200), "sq.png", "image/png")
    a = open_tab(alice)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    a.open_conv(conv)
    a.page.wait_for_function(f'document.querySelector("{msg(1)} [data-testid=image-thumb]")?.naturalWidth > 0')
    a.js(
        """conv => {
            const m = window.__semot.state.convs[conv].messages.find(x => x.seq === 1);
            const old = (u) => u.replace(/exp=\\d+/, 'exp=1000').replace(/sig=[^&]+/, 'sig=AAAA');
            window.__expired = old(m.body.thumb_url || m.body.url);
            m.body = { ...m.body, url: old(m.body.url), thumb_url: m.body.thumb_url && old(m.body.thumb_url) };
        }""",
        conv,
    )
    a.page.wait_for_function(
        f"""() => {{
            const img = document.querySelector("{msg(1)} [data-testid=image-thumb]");
            return img && img.naturalWidth > 0 && img.complete && !img.src.includes('sig=AAAA');
        }}"""
    )
    # a broken URL without an expiry hint: the load error triggers the refetch
    a.js(
        """conv => {
            const m = window.__semot.state.convs[conv].messages.find(x => x.seq === 1);
            const bad = (u) => u && u.replace(/sig=[^&]+/, 'sig=BBBB');
            m.body = { ...m.body, url: bad(m.body.url), thumb_url: bad(m.body.thumb_url) };
        }""",
        conv,
    )
    a.page.wait_for_function(
        f"""() => {{
            const img = document.querySelector("{msg(1)} [data-testid=image-thumb]");
            return img && img.naturalWidth > 0 && img.complete && !img.src.includes('sig=BBBB');
        }}"""
    )
    # the failed loads of the made-up URLs are the only console errors
    a.assert_no_console_errors(lambda m: "Failed to load resource" in m)


def test_a_file_card_shows_the_name_as_text_the_size_and_downloads_the_bytes(
    server: ServerProcess, open_tab: Any
) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    name = "<b>html<b> <img src=x onerror=alert(1)> a very long name to cut with an ellipsis.txt"
    data = b"hello, file\n" * 250  # 3000 bytes
    send_upload(server, bob, alice, "file", data, name, "text/html")
    stored = server_history(server, alice, conv)[-1]["body"]
    a = open_tab(alice)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    preview = a.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-preview]").inner_text()
    assert preview == f"[文件] {stored['name']}"
    a.open_conv(conv)
    card = a.page.locator(f"{msg(1)} [data-testid=file-card]")
    card.wait_for()
    assert card.locator("[data-testid=file-name]").inner_text() == stored["name"]
    assert "<b>" in stored["name"], "the server kept the markup: this checks that it is shown as text"
    assert card.locator("b, img").count() == 0
    assert card.locator("[data-testid=file-size]").inner_text() == "2.9 KB"
    assert card.locator("[data-testid=file-icon]").inner_text() == "TXT"
    # cut with an ellipsis, whole in the tooltip
    assert card.locator("[data-testid=file-name]").evaluate("el => el.scrollWidth > el.clientWidth")
    assert card.locator("[data-testid=file-name]").get_attribute("title") == stored["name"]
    shot(a.page, "media-file-zh.png")
    with a.page.expect_download() as dl:
        card.locator("[data-testid=file-download]").click()
    path = dl.value.path()
    assert path is not None
    with open(path, "rb") as f:
        assert f.read() == data
    a.assert_no_console_errors()


def test_a_voice_message_shows_its_duration_and_plays(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    send_upload(server, bob, alice, "voice", wav(2000), "voice.wav", "audio/wav", duration_ms=2000)
    a = open_tab(alice, locale="en-US")
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    assert (
        a.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-preview]").inner_text()
        == "[Voice]"
    )
    a.open_conv(conv)
    voice = a.page.locator(f"{msg(1)} [data-testid=media-voice]")
    voice.wait_for()
    assert voice.locator("[data-testid=voice-duration]").inner_text() == "0:02"
    a.page.wait_for_function(f'document.querySelector("{msg(1)} [data-testid=voice-audio]")?.readyState > 0')
    assert voice.locator("[data-testid=voice-play]").get_attribute("aria-label") == "Play"
    voice.locator("[data-testid=voice-play]").click()
    a.page.wait_for_function(f'document.querySelector("{msg(1)} [data-testid=voice-audio]").currentTime > 0.2')
    assert voice.locator("[data-testid=voice-play]").get_attribute("aria-label") == "Pause"
    voice.locator("[data-testid=voice-play]").click()
    a.page.wait_for_function(f'document.querySelector("{msg(1)} [data-testid=voice-audio]").paused')
    a.assert_no_console_errors()


def test_forwarding_an_image_reaches_another_conversation_without_a_new_upload(
    server: ServerProcess, open_tab: Any
) -> None:
    alice, bob, carol, dave, erin = (new_user(server, p) for p in ("alice", "bob", "carol", "dave", "erin"))
    send(server, carol, alice, "text", {"text": "hi alice"})
    send(server, dave, alice, "text", {"text": "hello"})
    send(server, erin, alice, "text", {"text": "hey"})
    # erin blocks alice: that target fails, the others do not
    erin_token = uploader(server, erin).token
    http_json("PUT", f"{server.base}/api/v1/blacklist/{alice}", token=erin_token)
    first = send_upload(server, bob, alice, "image", png(300, 200), "photo.png", "image/png")
    original = server_history(server, alice, direct(alice, bob))[-1]
    a = open_tab(alice)
    c = open_tab(carol)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{direct(alice, bob)}']")
    a.open_conv(direct(alice, bob))
    a.page.wait_for_function(
        f'document.querySelector("{msg(first["seq"])} [data-testid=image-thumb]")?.naturalWidth > 0'
    )
    open_menu(a.page, first["seq"])
    a.page.locator("[data-testid=forward]:visible").click()
    dlg = a.page.locator("[data-testid=dlg-forward]")
    dlg.wait_for()
    assert dlg.locator("[data-testid=fwd-what]").inner_text() == "[图片]"
    dlg.locator("[data-testid=fwd-search]").fill(carol[:9])
    dlg.locator(f"[data-testid=fwd-target][data-conv='{direct(alice, carol)}']").click()
    dlg.locator("[data-testid=fwd-search]").fill(dave)
    assert dlg.locator("[data-testid=fwd-target]").count() == 1
    dlg.locator(f"[data-testid=fwd-target][data-conv='{direct(alice, dave)}']").press("Enter")
    dlg.locator("[data-testid=fwd-search]").fill("")
    dlg.locator(f"[data-testid=fwd-target][data-conv='{direct(alice, erin)}']").click()
    assert dlg.locator("[data-testid=fwd-picked]").inner_text() == "已选择 3 个"
    dlg.locator("[data-testid=fwd-send]").click()
    for who in (carol, dave):
        dlg.locator(
            f"[data-testid=fwd-target][data-conv='{direct(alice, who)}'] [data-testid=fwd-status][data-status=sent]"
        ).wait_for()
    failed = dlg.locator(f"[data-testid=fwd-target][data-conv='{direct(alice, erin)}'] [data-testid=fwd-status]")
    failed.locator("xpath=self::*[@data-status='failed']").wait_for()
    assert failed.inner_text().startswith("失败：")
    assert dlg.locator("[data-testid=fwd-send]").inner_text() == "重试失败的"
    a.page.locator(".el-message--error").wait_for()
    shot(a.page, "forward-zh.png")
    dlg.locator("[data-testid=fwd-cancel]").click()
    dlg.wait_for(state="hidden")

    # carol sees it and loads it; the stored body points at the same file
    c.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{direct(alice, carol)}']")
    c.open_conv(direct(alice, carol))
    c.page.wait_for_function(f'document.querySelector("{msg(2)} [data-testid=image-thumb]")?.naturalWidth > 0')
    copy = server_history(server, carol, direct(alice, carol))[-1]
    assert copy["kind"] == "image" and copy["from"] == alice
    assert copy["body"]["file_id"] == original["body"]["file_id"]
    assert (copy["body"]["w"], copy["body"]["h"]) == (300, 200)
    # alice's own copy (the echo of her send has no URLs) loads too, once fetched again
    a.open_conv(direct(alice, dave))
    a.page.wait_for_function(f'document.querySelector("{msg(2)} [data-testid=image-thumb]")?.naturalWidth > 0')
    a.assert_no_console_errors()
    c.assert_no_console_errors()


def test_forward_is_not_offered_for_recalled_or_burn_after_reading_messages(
    server: ServerProcess, open_tab: Any
) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    send(server, bob, alice, "text", {"text": "plain @x", "mentions": [alice]})
    send(server, bob, alice, "text", {"text": "secret"}, opts={"burn_s": 300})
    img = send_upload(server, bob, alice, "image", png(50, 50), "r.png", "image/png")
    as_user(server, bob, lambda cl: cl.recall(conv, img["seq"]))
    a = open_tab(alice, locale="en-US")
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    a.open_conv(conv)
    a.page.wait_for_selector(f"[data-testid=chat] [data-testid=tombstone][data-seq='{img['seq']}']")
    assert (
        a.page.locator(
            f"[data-testid=chat] [data-testid=tombstone][data-seq='{img['seq']}'] [data-testid=msg-menu]"
        ).count()
        == 0
    )
    # the burn-after-reading message: a menu (copy), but no Forward
    open_menu(a.page, 2)
    a.page.locator(".el-dropdown-menu:visible").wait_for()
    assert a.page.locator("[data-testid=forward]:visible").count() == 0
    a.page.click("[data-testid=chat-title]")
    a.page.locator(".el-dropdown-menu:visible").wait_for(state="detached")
    # a plain text: forwarded without its mentions
    open_menu(a.page, 1)
    a.page.locator("[data-testid=forward]:visible").click()
    dlg = a.page.locator("[data-testid=dlg-forward]")
    dlg.locator(f"[data-testid=fwd-target][data-conv='{conv}']").click()
    dlg.locator("[data-testid=fwd-send]").click()
    dlg.locator("[data-testid=fwd-status][data-status=sent]").wait_for()
    last = server_history(server, bob, conv)[-1]
    assert last["from"] == alice and last["body"] == {"text": "plain @x"}
    a.assert_no_console_errors()


RECORD_VIDEO = """async ms => {
    const canvas = document.createElement('canvas');
    canvas.width = 160; canvas.height = 120;
    const g = canvas.getContext('2d');
    const stream = canvas.captureStream(15);
    const rec = new MediaRecorder(stream, { mimeType: 'video/webm' });
    const parts = [];
    rec.ondataavailable = (e) => parts.push(e.data);
    const done = new Promise((r) => (rec.onstop = r));
    rec.start(100);
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
        g.fillStyle = `hsl(${(performance.now() - t0) / 5}, 80%, 50%)`;
        g.fillRect(0, 0, 160, 120);
        await new Promise((r) => setTimeout(r, 40));
    }
    rec.stop();
    await done;
    const buf = new Uint8Array(await new Blob(parts, { type: 'video/webm' }).arrayBuffer());
    let s = '';
    for (const b of buf) s += String.fromCharCode(b);
    return btoa(s);
}"""


def test_a_video_message_plays_in_the_browsers_player(server: ServerProcess, open_tab: Any) -> None:
    """A real WebM made by Chromium's MediaRecorder, sent by bob, played by alice."""
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = direct(alice, bob)
    a = open_tab(alice)
    data = base64.b64decode(a.js(RECORD_VIDEO, 1200))
    assert data[:4] == b"\x1a\x45\xdf\xa3", "a WebM (EBML) file"
    send_upload(server, bob, alice, "video", data, "clip.webm", "video/webm", duration_ms=1200)
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    assert (
        a.page.locator(f"[data-testid=conv-item][data-conv='{conv}'] [data-testid=conv-preview]").inner_text()
        == "[视频]"
    )
    a.open_conv(conv)
    video = a.page.locator(f"{msg(1)} [data-testid=video]")
    video.wait_for()
    assert video.get_attribute("controls") is not None
    assert "sig=" in (video.get_attribute("src") or "")
    assert a.page.inner_text(f"{msg(1)} .media-duration") == "0:01"
    video.evaluate("el => { el.muted = true; return el.play(); }")
    a.page.wait_for_function(f'document.querySelector("{msg(1)} [data-testid=video]").currentTime > 0.2')
    assert video.evaluate("el => el.readyState") > 0 and video.evaluate("el => el.videoWidth") == 160
    a.assert_no_console_errors()


def test_the_media_format_helpers(open_tab: Any) -> None:
    """Sizes, durations, preview boxes and type badges (the module, run in the browser)."""
    tab = open_tab("nobody", login=False)
    got = tab.js(
        """async () => {
            const f = await import('/web/app/components/media/format.js');
            return {
                sizes: [0, 980, 1024, 3000, 1536 * 1024, 34 * 1024 * 1024, 1.5 * 1024 ** 3].map(f.humanSize),
                clocks: [0, 400, 2000, 62_000, 3_723_000].map(f.clockDuration),
                elapsed: [0, 0.9, 7.6, 75].map(f.clockElapsed),
                boxes: [[400, 300], [120, 360], [4000, 100], [10, 10], [null, null]].map(([w, h]) => f.previewBox(w, h)),
                types: [
                    ['application/pdf', 'a.bin'], ['application/zip', 'report.docx'], ['application/octet-stream', 'x.tar.gz'],
                    ['text/plain', 'notes.md'], ['image/png', 'p'], ['application/octet-stream', 'blob'], ['', 'a.weird'],
                ].map(([m, n]) => f.fileType(m, n).label),
                exp: [f.urlExpiry('/api/v1/files/f1/content?exp=1796062680000&sig=x'), f.urlExpiry('/x.png'), f.urlExpiry('')],
            };
        }"""
    )
    assert got["sizes"] == ["0 B", "980 B", "1 KB", "2.9 KB", "1.5 MB", "34 MB", "1.5 GB"]
    assert got["clocks"] == ["0:00", "0:01", "0:02", "1:02", "1:02:03"]
    assert got["elapsed"] == ["0:00", "0:00", "0:07", "1:15"]
    assert [(b["width"], b["height"]) for b in got["boxes"]] == [(240, 180), (80, 240), (240, 64), (64, 64), (240, 180)]
    assert got["types"] == ["PDF", "DOC", "ZIP", "TXT", "IMG", "FILE", "FILE"]
    assert got["exp"] == [1796062680000, None, None]


def test_what_forward_sends_and_when_it_is_offered(open_tab: Any) -> None:
    tab = open_tab("nobody", login=False)
    got = tab.js(
        """async () => {
            const f = await import('/web/app/stores/forward.js');
            const m = (kind, body, extra = {}) => ({ seq: 3, kind, body, opts: {}, ...extra });
            const voice = m('voice', { file_id: 'f1', duration_ms: 1500, size: 9, url: '/u?exp=1&sig=s' });
            const video = m('video', { file_id: 'f2', duration_ms: 900, w: 1, h: 1, size: 9, url: '/u', thumb_url: '/t' });
            const file = m('file', { file_id: 'f3', name: 'a.txt', size: 3, mime: 'text/plain', url: '/u' });
            const text = m('text', { text: 'hi @bob', mentions: ['bob'], mention_all: true });
            const loc = m('location', { lat: 1, lng: 2, title: 'x' });
            return {
                bodies: [voice, video, file, text, loc].map(f.forwardBody),
                offered: [
                    f.canForward(voice), f.canForward(text),
                    f.canForward(m('recalled', {})), f.canForward(m('burned', {})), f.canForward(m('system', { type: 'x' })),
                    f.canForward(m('text', { text: 'x' }, { opts: { burn_s: 10 } })),
                    f.canForward(m('text', { text: 'x' }, { seq: 0 })), f.canForward(text, { cid: 'c1' }),
                    f.canForward(m('image', {})),
                ],
            };
        }"""
    )
    assert got["bodies"] == [
        {"file_id": "f1", "duration_ms": 1500},
        {"file_id": "f2", "duration_ms": 900},
        {"file_id": "f3"},
        {"text": "hi @bob"},
        {"lat": 1, "lng": 2, "title": "x"},
    ]
    assert got["offered"] == [True, True, False, False, False, False, False, False, False]
