"""Sending files from the web client's composer (Debian Chromium, real server): a real
image picked and pasted, several files at once in order, a 30 MB upload cut in the
middle by going offline that resumes from the server's offset (not from 0) with the
exact bytes, and a voice message recorded from Chromium's fake microphone."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD, direct, http_json, new_user, server_history
from tests.support.server import ServerProcess

# Chromium's fake microphone (a beeping tone) and no permission prompt, for the recorder.
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture(scope="module")
def browser(playwright_sync: Any) -> Iterator[Any]:
    """This module's browser: the shared launch options plus the fake media devices."""
    b = playwright_sync.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *FAKE_MEDIA])
    yield b
    b.close()


def png(w: int, h: int, color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "PNG")
    return buf.getvalue()


def token(server: ServerProcess, user: str) -> str:
    return str(
        http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})["access_token"]
    )


def tus_offset(server: ServerProcess, tok: str, file_id: str) -> int:
    req = urllib.request.Request(
        f"{server.base}/api/v1/files/{file_id}",
        method="HEAD",
        headers={"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {tok}"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return int(r.headers["Upload-Offset"])


def download(server: ServerProcess, tok: str, file_id: str) -> bytes:
    req = urllib.request.Request(
        f"{server.base}/api/v1/files/{file_id}/content", headers={"Authorization": f"Bearer {tok}"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return bytes(r.read())


def collect_messages(tab: Any) -> None:
    """Every message the tab's SDK delivers, in window.__got (the peer's side)."""
    tab.js("() => { window.__got = []; window.__semot.client.on('message', (m) => { window.__got.push(m); }); }")


def wait_kinds(tab: Any, kinds: list[str], timeout: float = 30_000) -> list[dict[str, Any]]:
    tab.page.wait_for_function("n => window.__got.length >= n", arg=len(kinds), timeout=timeout, polling=100)
    got: list[dict[str, Any]] = tab.js("() => window.__got")
    assert [m["kind"] for m in got] == kinds, got
    return got


def test_the_upload_module_and_tus_client_are_served(server: ServerProcess) -> None:
    for path in ("/sdk/uploads.js", "/web/sdk/uploads.js", "/web/vendor/tus-js-client/tus.min.js"):
        with urllib.request.urlopen(server.base + path, timeout=10) as r:
            assert "javascript" in r.headers["Content-Type"], path
            assert "'unsafe-eval'" in r.headers["Content-Security-Policy"], path  # the web client's policy
    with urllib.request.urlopen(server.base + "/sdk/uploads.js", timeout=10) as r:
        assert b"/web/vendor/tus-js-client/tus.min.js" in r.read()  # found from the short path too


def test_images_by_file_picker_and_paste_reach_the_peer(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a, b = open_tab(alice), open_tab(bob)
    collect_messages(b)
    conv = direct(alice, bob)
    a.open_direct(bob)

    picked = png(64, 48, (200, 30, 30))
    a.page.set_input_files(
        "[data-testid=file-input]", files=[{"name": "red.png", "mimeType": "image/png", "buffer": picked}]
    )
    first = wait_kinds(b, ["image"])[0]
    assert first["conv"] == conv and first["from"] == alice
    assert (first["body"]["w"], first["body"]["h"], first["body"]["size"]) == (64, 48, len(picked))

    # paste a screenshot from the clipboard into the composer
    pasted = png(30, 20, (20, 160, 40))
    a.js(
        """b64 => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], "image.png", { type: "image/png" }));
            const ta = document.querySelector("textarea[data-testid=composer], [data-testid=composer] textarea");
            ta.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
        }""",
        base64.b64encode(pasted).decode(),
    )
    second = wait_kinds(b, ["image", "image"])[1]
    assert (second["body"]["w"], second["body"]["h"]) == (30, 20)

    # several files at once (a picture and a document): sent in the order picked, as image and file
    a.page.set_input_files(
        "[data-testid=file-input]",
        files=[
            {"name": "big.png", "mimeType": "image/png", "buffer": png(300, 200, (0, 0, 255))},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": "第一行\nline two\n".encode()},
        ],
    )
    got = wait_kinds(b, ["image", "image", "image", "file"])
    assert got[3]["body"]["name"] == "notes.txt"

    # drag and drop a file anywhere onto the chat pane
    a.js(
        """() => {
            const chat = document.querySelector("[data-testid=chat]");
            const dt = new DataTransfer();
            dt.items.add(new File(["dropped text"], "dropped.txt", { type: "text/plain" }));
            window.__drop = dt;
            for (const type of ["dragenter", "dragover"]) chat.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        }"""
    )
    a.page.wait_for_selector("[data-testid=chat].drop-active")  # the pane shows where to drop
    a.js(
        """() => {
            const target = document.querySelector("[data-testid=chat] [data-testid=messages]");
            target.dispatchEvent(new DragEvent("drop", { dataTransfer: window.__drop, bubbles: true, cancelable: true }));
        }"""
    )
    dropped = wait_kinds(b, ["image", "image", "image", "file", "file"])[4]
    assert dropped["body"]["name"] == "dropped.txt"
    a.page.wait_for_selector("[data-testid=chat]:not(.drop-active)")
    tok = token(server, bob)
    assert download(server, tok, got[3]["body"]["file_id"]) == "第一行\nline two\n".encode()
    assert download(server, tok, first["body"]["file_id"]) == picked
    # the sender's own view: four messages acknowledged, no upload bar left
    a.page.wait_for_function(
        "c => { const x = window.__semot.state.convs[c]; return x && x.messages.length === 5 && !x.pending.length; }",
        arg=conv,
    )
    assert a.page.locator("[data-testid=upload-item]").count() == 0
    assert [m["kind"] for m in server_history(server, alice, conv)] == ["image", "image", "image", "file", "file"]
    a.assert_no_console_errors()
    b.assert_no_console_errors()


def test_a_30mb_upload_cut_by_going_offline_resumes_from_the_server_offset(
    server: ServerProcess, open_tab: Any, tmp_path: Path
) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a = open_tab(alice)
    conv = direct(alice, bob)
    a.open_direct(bob)
    data = os.urandom(30 * 1024 * 1024)
    path = tmp_path / "archive.bin"
    path.write_bytes(data)
    # a slow uplink (12 MB/s), so that "the middle" of the upload lasts long enough to cut it
    cdp = a.context.new_cdp_session(a.page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 12 * 1024 * 1024},
    )
    a.page.set_input_files("[data-testid=file-input]", str(path))
    item = a.page.locator("[data-testid=upload-item]")
    a.page.wait_for_function(
        "() => { const el = document.querySelector('[data-testid=upload-item]'); return el && +el.dataset.percent >= 30; }",
        timeout=60_000,
    )
    a.context.set_offline(True)
    a.page.wait_for_selector("[data-testid=upload-item][data-state=offline]")
    file_id = item.get_attribute("data-file-id")
    assert file_id
    tok = token(server, alice)
    offset = tus_offset(server, tok, file_id)
    assert 0 < offset < len(data), offset  # what arrived before the cut is on the server
    # (the bar's percent counts bytes handed to the browser, which may all be sent already
    # on a loaded machine: the server's offset above is what proves the cut)
    # still offline a moment later: it waits, it does not fail
    a.page.wait_for_timeout(500)
    assert item.get_attribute("data-state") == "offline"
    a.context.set_offline(False)
    a.page.wait_for_function(
        "c => { const x = window.__semot.state.convs[c]; return x && x.messages.length === 1 && !x.pending.length; }",
        arg=conv,
        timeout=60_000,
    )
    sent = server_history(server, alice, conv)
    assert [m["kind"] for m in sent] == ["file"]
    assert sent[0]["body"]["file_id"] == file_id, "the same upload continued, not a new one from 0"
    assert sent[0]["body"]["size"] == len(data) and sent[0]["body"]["name"] == "archive.bin"
    info = http_json("GET", f"{server.base}/api/v1/files/{file_id}/info", token=tok)
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(download(server, tok, file_id)).hexdigest() == hashlib.sha256(data).hexdigest()
    assert a.page.locator("[data-testid=upload-item]").count() == 0
    a.assert_no_console_errors(allow=lambda m: "ERR_INTERNET_DISCONNECTED" in m or "Failed to load resource" in m)


def test_a_recorded_voice_message_arrives_as_voice_with_its_duration(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a, b = open_tab(alice, permissions=["microphone"]), open_tab(bob)
    collect_messages(b)
    a.open_direct(bob)
    a.page.click("[data-testid=mic-btn]")  # a click: record until told to send
    a.page.wait_for_selector("[data-testid=voice-recorder][data-state=recording]")
    a.page.wait_for_function("() => document.querySelector('[data-testid=voice-time]').textContent >= '0:02'")
    a.page.click("[data-testid=voice-send]")
    voice = wait_kinds(b, ["voice"])[0]
    assert voice["body"]["duration_ms"] >= 1500, voice
    assert voice["body"]["size"] > 1000
    assert voice["body"]["mime"].split("/")[0] in ("audio", "video")  # webm sniffs as a container
    assert a.page.locator("[data-testid=voice-recorder]").count() == 0
    # cancel drops the recording: nothing more is sent
    a.page.click("[data-testid=mic-btn]")
    a.page.wait_for_selector("[data-testid=voice-recorder][data-state=recording]")
    a.page.click("[data-testid=voice-cancel]")
    a.page.wait_for_selector("[data-testid=voice-recorder]", state="detached")
    a.page.wait_for_timeout(500)
    assert [m["kind"] for m in server_history(server, alice, direct(alice, bob))] == ["voice"]
    # hold to talk: press, speak, let go to send
    a.page.hover("[data-testid=mic-btn]")
    a.page.mouse.down()
    a.page.wait_for_selector("[data-testid=voice-recorder][data-state=recording]")
    a.page.wait_for_function("() => document.querySelector('[data-testid=voice-time]').textContent >= '0:01'")
    a.page.mouse.up()
    held = wait_kinds(b, ["voice", "voice"])[1]
    assert held["body"]["duration_ms"] >= 900, held
    a.assert_no_console_errors()
    b.assert_no_console_errors()
