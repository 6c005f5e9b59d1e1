"""Sound and video with ffmpeg/ffprobe (Debian's `ffmpeg`), when they are installed.

ffprobe gives the duration, the streams and the display size (a phone's rotation
matrix applied, so w/h are as shown); ffmpeg takes a poster frame for the thumbnail.
Without them, sound and video simply have no duration, size or thumbnail.

A recording made in a browser (MediaRecorder: WebM/Opus written as a stream) carries
no duration in its header; then the packets are read through (`-c copy`, no decoding,
fast) and the last timestamp is the duration.

ffmpeg reads untrusted files here, so it is held on a short leash: the demuxer is
named from the type the bytes were sniffed as (never guessed by ffmpeg: a playlist or
concat script can never be opened, so no other file or URL is ever read), only the
`file` protocol is allowed, one thread, a timeout (`file_media_timeout_s`) after
which it is killed, and it runs inside the MediaWorkers' bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# sniffed type -> ffmpeg demuxer (anything else is not handed to ffmpeg)
DEMUXERS = {
    "video/mp4": "mov", "video/x-m4v": "mov", "video/quicktime": "mov", "audio/mp4": "mov", "audio/x-m4a": "mov",
    "video/webm": "matroska", "video/x-matroska": "matroska", "audio/webm": "matroska",
    "video/ogg": "ogg", "audio/ogg": "ogg", "audio/opus": "ogg",
    "audio/mpeg": "mp3", "audio/x-wav": "wav", "audio/wav": "wav", "audio/flac": "flac", "audio/x-flac": "flac",
    "audio/aac": "aac", "audio/amr": "amr", "video/x-msvideo": "avi", "video/x-flv": "flv", "video/mpeg": "mpeg",
}
_OUT_LIMIT = 4 * 1024 * 1024
_POSTER_FILTER = "scale=w='min(320,iw)':h='min(320,ih)':force_original_aspect_ratio=decrease"


@dataclass(frozen=True, slots=True)
class Probe:
    duration_ms: int | None
    w: int | None  # as displayed
    h: int | None
    video: bool  # a real video stream (not an album cover)
    audio: bool


def refined_mime(mime: str, probe: Probe) -> str:
    """A WebM or MP4 with sound only is audio/*, an Ogg with pictures video/*: the sniffer
    sees only the container."""
    kind, _, sub = mime.partition("/")
    if kind == "video" and not probe.video and probe.audio:
        return "audio/mp4" if sub in ("quicktime", "x-m4v") else f"audio/{sub}"
    if kind == "audio" and probe.video and sub in ("ogg", "webm", "mp4", "x-m4a"):
        return "video/mp4" if sub == "x-m4a" else f"video/{sub}"
    return mime


class Ffmpeg:
    def __init__(self, ffmpeg: str | None, ffprobe: str | None, timeout_s: float) -> None:
        self.ffmpeg = ffmpeg
        self.ffprobe = ffprobe
        self.timeout_s = timeout_s

    @classmethod
    def find(cls, timeout_s: float) -> Ffmpeg:
        tool = cls(shutil.which("ffmpeg"), shutil.which("ffprobe"), timeout_s)
        if tool.ffprobe is None:
            log.info("ffprobe not found: sound and video get no duration, size or poster")
        return tool

    async def _run(self, *args: str) -> tuple[int, bytes] | None:
        proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        with contextlib.suppress(AttributeError, OSError):  # lowest priority: the event loop comes first
            os.setpriority(os.PRIO_PROCESS, proc.pid, 19)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), self.timeout_s)
        except (TimeoutError, asyncio.CancelledError):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            log.warning("%s gave up after %.0f s", Path(args[0]).name, self.timeout_s)
            return None
        return proc.returncode or 0, out[:_OUT_LIMIT]

    def _input(self, path: Path, mime: str) -> list[str]:
        return ["-protocol_whitelist", "file", "-f", DEMUXERS[mime], "-i", f"file:{path}"]

    async def probe(self, path: Path, mime: str) -> Probe | None:
        if self.ffprobe is None or mime not in DEMUXERS:
            return None
        done = await self._run(self.ffprobe, "-v", "error", "-threads", "1", "-print_format", "json",
                               "-show_format", "-show_streams", *self._input(path, mime))
        if done is None or done[0] != 0:
            return None
        try:
            info = json.loads(done[1])
        except ValueError:
            return None
        streams: list[dict[str, Any]] = [s for s in info.get("streams", []) if isinstance(s, dict)]
        videos = [s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")]
        audio = any(s.get("codec_type") == "audio" for s in streams)
        w = h = None
        if videos:
            w, h = _int(videos[0].get("width")), _int(videos[0].get("height"))
            if w is not None and h is not None and _rotation(videos[0]) % 180 == 90:
                w, h = h, w
        seconds = _float((info.get("format") or {}).get("duration"))
        if seconds is None:
            seconds = max((d for d in (_float(s.get("duration")) for s in streams) if d is not None), default=None)
        if seconds is None:
            seconds = await self._read_through(path, mime, "v" if videos else "a")
        duration = round(seconds * 1000) if seconds is not None and seconds >= 0 else None
        return Probe(duration, w, h, bool(videos), audio)

    async def _read_through(self, path: Path, mime: str, stream: str) -> float | None:
        """The duration of a file whose header lacks it: the last packet's time."""
        if self.ffmpeg is None:
            return None
        done = await self._run(self.ffmpeg, "-v", "error", "-nostdin", "-threads", "1", *self._input(path, mime),
                               "-map", f"0:{stream}:0", "-c", "copy", "-f", "null", "-progress", "pipe:1", "-")
        if done is None:
            return None
        last = None
        for line in done[1].decode("ascii", "replace").splitlines():
            key, _, value = line.partition("=")
            if key == "out_time_us" and value.strip().lstrip("-").isdigit():
                last = int(value) / 1e6
        return last

    async def poster(self, path: Path, mime: str, duration_ms: int | None) -> bytes | None:
        """A frame (PNG, at most 320 px on the longer side, upright) a little into the
        video (the very first one is often black), or the first when that fails."""
        if self.ffmpeg is None or mime not in DEMUXERS:
            return None
        at = min(1.0, duration_ms / 10_000) if duration_ms else 0.0
        for start in dict.fromkeys((at, 0.0)):
            done = await self._run(self.ffmpeg, "-v", "error", "-nostdin", "-threads", "1", "-ss", f"{start:.3f}",
                                   *self._input(path, mime), "-map", "0:v:0", "-frames:v", "1",
                                   "-vf", _POSTER_FILTER, "-f", "image2pipe", "-c:v", "png", "pipe:1")
            if done is not None and done[0] == 0 and done[1]:
                return done[1]
        return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _float(value: object) -> float | None:
    try:
        return float(value) if value not in (None, "N/A") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list") or []:
        if isinstance(side, dict) and "rotation" in side:
            with contextlib.suppress(TypeError, ValueError):
                return int(float(side["rotation"])) % 360
    with contextlib.suppress(TypeError, ValueError):
        return int((stream.get("tags") or {}).get("rotate", 0)) % 360
    return 0
