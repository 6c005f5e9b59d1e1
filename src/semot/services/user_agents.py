"""A short, human name for the client behind a User-Agent, and the platform it implies.

The login log shows administrators "Chrome 126 · Windows" rather than a 200-character
header, and a platform when the client did not declare one (PROTOCOL.md's platforms:
web, desktop, android, ios, bot, sdk). A few rules cover the browsers and HTTP
libraries people actually use; anything else is named by its first product token. No
database of agents: the raw header is stored next to the summary anyway.
"""

from __future__ import annotations

import re

_BROWSERS = (  # first match wins: Edge and Opera also say "Chrome", Chrome also says "Safari"
    ("MicroMessenger/", "WeChat"),
    ("DingTalk/", "DingTalk"),
    ("wxwork/", "WeCom"),
    ("Electron/", "Electron"),
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),  # Safari names its version in Version/x
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("HarmonyOS", "HarmonyOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)
_LIBRARIES = ("python-requests", "aiohttp", "httpx", "curl", "Wget", "okhttp", "Go-http-client", "node-fetch", "axios")
_TOKEN = re.compile(r"^[A-Za-z][\w.\-]{0,40}(?:/[\w.\-]{1,20})?")


def _version_after(ua: str, marker: str) -> str:
    at = ua.find(marker)
    if at < 0:
        return ""
    m = re.match(r"(\d+)", ua[at + len(marker) :])
    return m.group(1) if m else ""


def describe(user_agent: str) -> tuple[str, str]:
    """(device, platform) for a User-Agent: e.g. ("Chrome 126 · Windows", "web"),
    ("aiohttp 3.9", "sdk"), ("", "") when there is none."""
    ua = user_agent.strip()
    if not ua:
        return "", ""
    for lib in _LIBRARIES:
        at = ua.find(lib + "/")
        if at >= 0:
            m = re.match(r"(\d+(?:\.\d+)?)", ua[at + len(lib) + 1 :])
            return (f"{lib} {m.group(1)}" if m else lib), "sdk"
    if ua.startswith("Mozilla/") or "AppleWebKit" in ua:
        browser = next(((name, marker) for marker, name in _BROWSERS if marker in ua), None)
        system = next((name for marker, name in _SYSTEMS if marker in ua), "")
        label = ""
        if browser is not None:
            version = _version_after(ua, browser[1])
            label = f"{browser[0]} {version}".strip()
        device = " · ".join(p for p in (label, system) if p) or "Browser"
        platform = "desktop" if browser is not None and browser[0] == "Electron" else "web"
        return device, platform
    m = _TOKEN.match(ua)
    token = m.group(0).replace("/", " ") if m else ua[:40]
    return token, ("sdk" if ua.lower().startswith(("python", "semot")) else "")
