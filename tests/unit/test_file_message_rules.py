"""What a file message's stored body is made of (domain.messages.media_body): the stored
file's fields, the kind's type rule, the duration rules; and the URLs added on the way out."""

from __future__ import annotations

import pytest

from semot.domain.files import FileRecord
from semot.domain.messages import Message, media_body, message_file_id, validate_body
from semot.errors import BadRequest
from semot.services.attachments import Attachments
from semot.services.files import UrlSigner
from semot.storage.memory import memory_storage


def rec(mime: str, *, w: int | None = None, h: int | None = None, duration_ms: int | None = None) -> FileRecord:
    return FileRecord("f1", "alice", "a.bin", 42, 42, mime, 1, None, "0" * 64, w, h, duration_ms, completed_at=2)


def test_the_client_sends_the_file_and_a_duration_only() -> None:
    lies = {"file_id": "f1", "size": 1, "name": "x.exe", "mime": "text/html", "w": "?", "url": "http://evil/"}
    assert validate_body("image", lies, max_text_chars=1) == {"file_id": "f1"}
    assert validate_body("voice", {"file_id": "f1", "duration_ms": 5}, max_text_chars=1) == {"file_id": "f1", "duration_ms": 5}
    assert message_file_id("image", {"file_id": "f1"}) == "f1"
    assert message_file_id("text", {"file_id": "f1"}) is None


def test_fields_come_from_the_stored_file() -> None:
    assert media_body("image", rec("image/png", w=3, h=2), None) == {
        "file_id": "f1", "name": "a.bin", "size": 42, "mime": "image/png", "w": 3, "h": 2,
    }
    assert media_body("file", rec("application/zip", w=3, h=2), None) == {
        "file_id": "f1", "name": "a.bin", "size": 42, "mime": "application/zip",
    }
    with pytest.raises(BadRequest, match="could not read this picture"):  # a bomb, or undecodable
        media_body("image", rec("image/tiff"), None)


@pytest.mark.parametrize(("kind", "mime"), [("image", "text/plain"), ("voice", "image/png"), ("video", "audio/ogg"),
                                             ("image", "video/mp4")])
def test_the_sniffed_type_must_fit_the_kind(kind: str, mime: str) -> None:
    with pytest.raises(BadRequest, match="does not fit"):
        media_body(kind, rec(mime), 1000)


def test_durations() -> None:
    assert media_body("voice", rec("audio/ogg", duration_ms=2500), 9)["duration_ms"] == 2500  # measured wins
    assert media_body("voice", rec("audio/ogg"), 900)["duration_ms"] == 900
    assert media_body("video", rec("video/mp4", w=4, h=3), 7)["duration_ms"] == 7
    for bad in (None, 0, 600_001):
        with pytest.raises(BadRequest, match="duration_ms"):
            media_body("voice", rec("audio/ogg"), bad)
    with pytest.raises(BadRequest, match="duration_ms"):
        media_body("video", rec("video/mp4"), 0)
    with pytest.raises(BadRequest, match="10 minutes"):
        media_body("voice", rec("audio/ogg", duration_ms=700_000), None)


def test_a_browser_recording_sniffed_as_video_is_a_voice_message_unless_it_has_a_picture() -> None:
    assert media_body("voice", rec("video/webm"), 1000)["mime"] == "video/webm"
    with pytest.raises(BadRequest, match="does not fit"):
        media_body("voice", rec("video/webm", w=640, h=480), 1000)


def test_urls_are_added_on_the_way_out_only() -> None:
    att = Attachments(memory_storage().files, UrlSigner("secret", 60))
    body = {"file_id": "f1", "size": 42}
    msg = Message("d:a:b", 1, "m1", "c1", "a", "image", body, 1)
    out = att.decorate(msg)
    assert out.body["url"].startswith("/api/v1/files/f1/content?exp=") and "thumb_url" in out.body
    assert msg.body == {"file_id": "f1", "size": 42}  # the stored message is untouched
    assert "thumb_url" not in att.decorate(Message("d:a:b", 2, "m2", "c2", "a", "voice", body, 1)).body
    text = Message("d:a:b", 3, "m3", "c3", "a", "text", {"text": "hi"}, 1)
    assert att.decorate(text) is text
    assert Attachments(memory_storage().files).decorate(msg).body == body  # no signer: no URLs
