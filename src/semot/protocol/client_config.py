"""The client configuration (终端配置) on the wire: what an administrator sets and what
every client is shown.

One set of models serves three places, so they cannot drift apart: the body of
`PUT /api/admin/v1/client-config` (`ClientConfigEdit`, every field optional: what is
left out keeps its value), the public `GET /api/v1/client-config` that the login page
reads before anyone signs in (`PublicClientConfig`: nothing secret in it), and the
`evt config` push that carries the same public object, so a hundred thousand clients
told of a change need not all fetch it at once.

Validation lives here, in one place, with messages an administrator can act on: every
URL is an absolute http(s) URL (a `javascript:` or `data:` URL shown as a tab or a
logo would run in the client's origin), texts have bounds and no control characters,
feature names are the known ones.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

# Every switch a client honours, with its default (on: a fresh server behaves as before).
# The server refuses what a switched-off feature would do (services/features.py); the
# rest only hide parts of the clients' UI (calls: for clients that have them).
FEATURES: dict[str, bool] = {
    "friends": True,  # friend requests (contacts tab)
    "groups": True,  # creating and joining groups
    "files": True,  # file messages and uploads other than pictures, voice and video
    "images": True,  # picture messages
    "voice": True,  # voice messages
    "video": True,  # video messages
    "location": True,  # location messages
    "cards": True,  # contact cards
    "calls": True,  # audio / video calls (clients that have them)
    "burn": True,  # burn-after-reading
    "recall": True,  # recalling one's own messages
    "edit": True,  # editing one's own text messages
    "reactions": True,  # emoji reactions
    "directory": True,  # the organisation directory tab (the server API stays)
}
DM_POLICIES = ("anyone", "friends", "friends_or_colleagues")
DmPolicy = Literal["anyone", "friends", "friends_or_colleagues"]

MAX_PHRASES = 50
MAX_PHRASE_CHARS = 500
MAX_PAGES = 10
MAX_FRIEND_GROUPS = 20
MAX_TAG_NAME = 64  # domain/contacts.py's MAX_TAG_NAME (a test keeps them equal)
MAX_URL = 2048
MAX_PLACES = 500  # the organisation's places offered by the location picker (services/geo.py)

# Control characters (C0, DEL, C1): none in a line; a text may have newlines and tabs.
_LINE_EX = r"\x00-\x1f\x7f-\x9f"
_TEXT_EX = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
_LINE_CONTROL = re.compile(f"[{_LINE_EX}]")
_TEXT_CONTROL = re.compile(f"[{_TEXT_EX}]")


def _pattern(exclude: str, *, blank: bool) -> str:
    r"""What /openapi.json promises for a text made of characters outside `exclude`;
    `blank=False`: one must remain after `str.strip()` (api/models.py's not_blank: the
    characters Python strips and JSON Schema's `\s` does not match are named)."""
    if blank:
        return f"^[^{exclude}]*$"
    return f"^[^{exclude}]*[^{exclude}\\s\\x1c-\\x1f\\x85][^{exclude}]*$"


# An absolute http(s) URL: a host of ASCII letters, digits and hyphens (an
# internationalised domain in its xn-- form; IPv4 addresses too), an optional port of at
# most 65535, then a path, query or fragment with no spaces or control characters. No
# user name or password can appear (the host ends at the first / ? #), and the origin is
# safe to name in a Content-Security-Policy (services/client_settings.csp_sources).
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = "(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
_URL = f"^[Hh][Tt][Tt][Pp][Ss]?://{_LABEL}(?:\\.{_LABEL})*(?::{_PORT})?(?:[/?#][^\\s\\ufeff{_LINE_EX}]*)?$"
_URL_RE = re.compile(_URL)


def _line(*, blank: bool) -> BeforeValidator:
    """A friendly message for what the pattern refuses (before pydantic's own: placed
    after StringConstraints in an Annotated, a BeforeValidator still runs first, and the
    pattern stays in the JSON schema)."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            if _LINE_CONTROL.search(value):
                raise ValueError("control characters and line breaks are not allowed")
            if not blank and not value.strip():
                raise ValueError("must not be empty")
        return value

    return BeforeValidator(check)


def _text(value: Any) -> Any:
    if isinstance(value, str):
        if _TEXT_CONTROL.search(value):
            raise ValueError("control characters are not allowed")
        if not value.strip():
            raise ValueError("must not be empty")
    return value


def _notice(value: Any) -> Any:
    if isinstance(value, str) and _TEXT_CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _check_url(value: Any) -> Any:
    """Say why a URL is refused (the pattern above is the rule)."""
    if not isinstance(value, str) or _URL_RE.fullmatch(value):
        return value
    if any(c.isspace() or c == "\ufeff" for c in value) or _LINE_CONTROL.search(value):
        raise ValueError("a URL has no spaces or control characters")
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise ValueError("only http:// and https:// URLs are allowed")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in netloc:
        raise ValueError("the URL must not carry a user name or password")
    raise ValueError(
        "the host must be ASCII letters, digits, hyphens and dots (an internationalised domain in its xn-- form), "
        "with a port of at most 65535"
    )


def _integral(value: Any) -> Any:
    """3.0 is an integer to JSON Schema (and to JavaScript): taken as 3 (api/models.py's INTEGRAL)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _strip(value: str) -> str:
    return value.strip()


def origin(url: str) -> str:
    """scheme://host[:port] of a URL the pattern accepted (safe to put in a CSP)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


_STRIP = AfterValidator(_strip)
_LINE, _LINE_OR_EMPTY = _pattern(_LINE_EX, blank=False), _pattern(_LINE_EX, blank=True)
_NOT_BLANK, _MAY_BE_BLANK = _line(blank=False), _line(blank=True)

ProductName = Annotated[str, StringConstraints(max_length=64, pattern=_LINE), _NOT_BLANK, _STRIP]
Tagline = Annotated[str, StringConstraints(max_length=128, pattern=_LINE_OR_EMPTY), _MAY_BE_BLANK, _STRIP]
PageTitle = Annotated[str, StringConstraints(max_length=32, pattern=_LINE), _NOT_BLANK, _STRIP]
PageIcon = Annotated[str, StringConstraints(max_length=16, pattern=_LINE_OR_EMPTY), _MAY_BE_BLANK, _STRIP]
TagName = Annotated[str, StringConstraints(max_length=MAX_TAG_NAME, pattern=_LINE), _NOT_BLANK, _STRIP]
Notice = Annotated[
    str,
    StringConstraints(max_length=500, pattern=_pattern(_TEXT_EX, blank=True)),
    BeforeValidator(_notice),
    AfterValidator(_strip),
]
Phrase = Annotated[
    str,
    StringConstraints(max_length=MAX_PHRASE_CHARS, pattern=_pattern(_TEXT_EX, blank=False)),
    BeforeValidator(_text),
    AfterValidator(_strip),
]
Url = Annotated[str, StringConstraints(max_length=MAX_URL, pattern=_URL), BeforeValidator(_check_url)]
FileId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class H5Page(_Model):
    """A custom page (H5 应用) shown as a tab of the clients: an intranet portal, a
    timetable, a form. `open`: inside the client (a sandboxed frame; the site must allow
    being framed) or in a new window."""

    title: PageTitle
    url: Url
    icon: PageIcon = Field("", description="an emoji or a few characters shown beside the title")
    open: Literal["tab", "window"] = "tab"


class Place(_Model):
    """One of the organisation's places (an office, a campus, a warehouse) that the
    location picker finds by name, address or pinyin (GET /api/v1/geo/search). Not in
    the public configuration: only signed-in users find them, through the search."""

    name: Annotated[str, StringConstraints(max_length=100, pattern=_LINE), _NOT_BLANK, _STRIP]
    address: Annotated[str, StringConstraints(max_length=300, pattern=_LINE_OR_EMPTY), _MAY_BE_BLANK, _STRIP] = ""
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lng: float = Field(ge=-180, le=180, allow_inf_nan=False)


def _unique_places(places: list[Place]) -> list[Place]:
    """A second place with a name already taken is dropped (as a repeated page title)."""
    kept: dict[str, Place] = {}
    for place in places:
        kept.setdefault(place.name, place)
    return list(kept.values())


class PageOut(_Model):
    """An H5 page as clients are shown it (checked when it was set)."""

    title: str
    url: str
    icon: str
    open: Literal["tab", "window"]


def _unique(values: list[str]) -> list[str]:
    """Duplicates dropped, the first kept (a list typed twice is a slip, not an error)."""
    return list(dict.fromkeys(values))


def _known_features(value: Any) -> Any:
    """Unknown switch names refused with the list of known ones (the document lists them
    as `propertyNames`)."""
    if isinstance(value, dict):
        unknown = sorted(k for k in value if k not in FEATURES)
        if unknown:
            raise ValueError(f"unknown feature {unknown[0]!r} (known: {', '.join(FEATURES)})")
    return value


def _unique_titles(pages: list[H5Page]) -> list[H5Page]:
    """A second page with a title already taken is dropped (a slip, like a repeated phrase)."""
    kept: dict[str, H5Page] = {}
    for page in pages:
        kept.setdefault(page.title, page)
    return list(kept.values())


Features = Annotated[
    dict[str, bool],
    BeforeValidator(_known_features),
    Field(json_schema_extra={"propertyNames": {"enum": list(FEATURES)}}),
]


LoginMethods = Literal["", "password", "sso", "both"]  # docs/sso.md, "Login methods"


class ClientConfigEdit(_Model):
    """What an administrator sets. In a PUT every field is optional: one left out keeps
    its value, and `features` changes only the switches it names. `version` (optional)
    is the version the editor started from: a PUT after someone else's change is then
    refused with 409 instead of silently undoing it."""

    version: Annotated[int, Field(ge=0, le=2**53 - 1), BeforeValidator(_integral)] | None = None
    product_name: ProductName | None = Field(None, description="shown on the login page, as the title and in About")
    tagline: Tagline | None = Field(
        None, description="under the product name on the login page; empty: the built-in one"
    )
    login_notice: Notice | None = Field(
        None, description="a notice on the login page (e.g. which account to use); empty: none"
    )
    logo_file_id: FileId | None = Field(
        None, description="an uploaded picture (PNG, JPEG, GIF, WebP or ICO, at most 1 MiB) as the logo and favicon"
    )
    logo_url: Url | None = Field(
        None,
        description="or an http(s) URL of a picture elsewhere (an upload given too wins); null (both): the default",
    )
    features: Features | None = None
    default_friend_groups: (
        Annotated[list[TagName], Field(max_length=MAX_FRIEND_GROUPS), AfterValidator(_unique)] | None
    ) = Field(None, description="contact tags (好友分组) every new account starts with")
    quick_phrases: Annotated[list[Phrase], Field(max_length=MAX_PHRASES), AfterValidator(_unique)] | None = Field(
        None, description="ready-made replies offered in the composer"
    )
    pages: Annotated[list[H5Page], Field(max_length=MAX_PAGES), AfterValidator(_unique_titles)] | None = None
    self_registration: bool | None = Field(None, description="may anyone create an account on the login page")
    direct_message_policy: DmPolicy | None = Field(
        None, description="what a direct message needs: nothing, friendship, or friendship or a shared organisation"
    )
    watermark: bool | None = Field(None, description="the viewer's name faintly over the chats (discourages photos)")
    max_upload_bytes: Annotated[int, Field(ge=0, le=2**50), BeforeValidator(_integral)] | None = Field(
        None, description="the largest upload; 0, or more than the server's limit: the server's limit"
    )
    login_methods: LoginMethods | None = Field(
        None, description="what the login pages offer: password, sso, both; empty: the server's setting "
        "(SEMOT_LOGIN_METHODS). GET /api/v1/auth/methods says what is in force (docs/sso.md)",
    )
    places: Annotated[list[Place], Field(max_length=MAX_PLACES), AfterValidator(_unique_places)] | None = Field(
        None, description="the organisation's places (offices, campuses, warehouses) the location picker finds "
        "first (GET /api/v1/geo/search); not shown in the public configuration",
    )


class PublicClientConfig(_Model):
    """What every client (and the login page, signed in or not) is shown."""

    version: int = Field(description="grows with every change")
    updated_at: int | None = None
    product_name: str
    tagline: str
    login_notice: str
    logo_url: str | None = Field(description="the logo (also the favicon): a path on this server or an http(s) URL")
    features: dict[str, bool]
    default_friend_groups: list[str]
    quick_phrases: list[str]
    pages: list[PageOut]
    self_registration: bool
    direct_message_policy: DmPolicy
    watermark: bool
    max_upload_bytes: int = Field(description="the largest upload accepted now (the administrator's or the server's)")
    login_methods: LoginMethods = Field(
        "", description="the administrator's choice of login methods; empty: the server's setting "
        "(GET /api/v1/auth/methods resolves it)",
    )


# The stored document: every field of ClientConfigEdit but `version`, always complete.
EDITABLE = tuple(name for name in ClientConfigEdit.model_fields if name != "version")
NULLABLE = ("logo_file_id", "logo_url")  # null means "none"; for every other field null means "unchanged"


def defaults(*, self_registration: bool, direct_message_policy: str) -> dict[str, Any]:
    """The configuration of a server whose administrator has set nothing: the two
    settings that predate it (SEMOT_SELF_REGISTRATION, SEMOT_DIRECT_MESSAGE_POLICY) come
    from the server's settings until an administrator saves a configuration."""
    return {
        "product_name": "Semot",
        "tagline": "",
        "login_notice": "",
        "logo_file_id": None,
        "logo_url": None,
        "features": dict(FEATURES),
        "default_friend_groups": [],
        "quick_phrases": [],
        "pages": [],
        "self_registration": self_registration,
        "direct_message_policy": direct_message_policy,
        "watermark": False,
        "max_upload_bytes": 0,
        "login_methods": "",
        "places": [],
    }


def merge(current: dict[str, Any], edit: ClientConfigEdit) -> dict[str, Any]:
    """`current` with what `edit` sets: fields it leaves out keep their value, `features`
    changes only the switches it names, and a new logo of one kind drops the other."""
    out = dict(current)
    given = edit.model_fields_set - {"version"}
    for name in given:
        value = getattr(edit, name)
        if value is None and name not in NULLABLE:
            continue  # null for a field that cannot be empty: left as it is
        if name == "features":
            out["features"] = {**current["features"], **value}
        elif name in ("pages", "places"):
            out[name] = [p.model_dump() for p in value]
        else:
            out[name] = list(value) if isinstance(value, list) else value
    if "logo_file_id" in given and edit.logo_file_id is not None and "logo_url" not in given:
        out["logo_url"] = None
    if "logo_url" in given and edit.logo_url is not None and "logo_file_id" not in given:
        out["logo_file_id"] = None
    if out["logo_file_id"] and out["logo_url"]:
        out["logo_url"] = None  # both given: the upload wins
    return out


def normalise(doc: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """A stored document made whole against `base` (the defaults): fields added by a
    later version get their default, switches unknown today are dropped."""
    out = {name: doc.get(name, base[name]) for name in EDITABLE}
    out["features"] = {name: bool(doc.get("features", {}).get(name, on)) for name, on in FEATURES.items()}
    return out
