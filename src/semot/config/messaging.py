"""Messages, contacts, groups and the location features of the web client."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class MessagingSettings(BaseModel):
    # --- messages
    recall_window_s: int = Field(120, ge=0, description="How long a sender may recall a message (s)")
    # message retention (docs/retention.md): the policy itself is set in the admin console
    retention_interval_s: float = Field(
        3600.0, gt=0, le=7 * 86400, description="How often the retention sweep deletes expired messages (s)"
    )
    retention_batch_size: int = Field(
        500, ge=1, le=10000, description="Messages the retention sweep deletes per transaction"
    )
    retention_batch_pause_s: float = Field(
        0.05, ge=0, le=60, description="Pause between two batches of the retention sweep (s)"
    )
    max_burn_s: int = Field(7 * 86400, ge=1, description="Longest burn-after-reading timer (s)")
    max_text_chars: int = Field(5000, ge=1, description="Longest text message body")
    edit_window_s: int = Field(
        86400, ge=0, description="How long a sender may edit their text message (s); 0: editing is off"
    )
    max_reactions_per_message: int = Field(
        20, ge=1, le=200, description="Most different emoji reactions one message may carry"
    )
    write_batch_max: int = Field(512, ge=1, le=10000, description="Messages committed per group-commit transaction")
    # custom message payloads: bounded so one message can neither break a write nor bloat every history page
    max_custom_depth: int = Field(
        32, ge=1, le=128, description="Deepest nesting of arrays/objects in a custom message's body.data"
    )
    max_custom_bytes: int = Field(
        16384, ge=256, le=16 * 1024 * 1024, description="Largest custom message body.data, in bytes of compact JSON"
    )
    test_fault_cid_prefix: str | None = Field(
        None,
        min_length=1,
        description="TEST ONLY, never set in production: storing a message whose cid starts with this fails "
        "as if the database refused its data (to test that one bad message fails alone)",
    )

    # --- contacts
    direct_message_policy: Literal["anyone", "friends", "friends_or_colleagues"] = Field(
        "anyone",
        description="What a direct message needs: nothing, friendship, or friendship or both users in the org directory "
        "(until an administrator saves the client configuration, whose value wins)",
    )

    # --- groups
    max_group_members: int = Field(10000, ge=2, description="Largest group")
    read_receipts_max_group: int = Field(
        500, ge=0, description="Groups larger than this get no read receipts (read positions are still kept)"
    )

    # --- web client: location messages open in this map (issue 11); {lat} and {lng} are
    # filled in. Intranets with their own map service point it there (no tiles are loaded
    # by the client: only this link is followed when a user clicks a location)
    map_url_template: str = Field(
        "https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=16/{lat}/{lng}",
        pattern=r"^https?://[^\s]*\{lat\}[^\s]*$",
        max_length=500,
        description="Where the web client opens a location message: an http(s) URL with {lat} and {lng} in it",
    )
    # --- place search for the location picker (services/geo.py, docs/protocol.md "Place search")
    geo_cities: bool = Field(
        True, description="Search the offline gazetteer of cities (GeoNames, >15,000 people; ~100 MB, built on first use)"
    )
    geocoder_url: str | None = Field(
        None, pattern=r"^https?://[^\s]+$", max_length=500,
        description="A Nominatim-compatible /search URL the server asks too (e.g. https://nominatim.example/search); "
        "empty: none (nothing leaves the server)",
    )
    geocoder_timeout_s: float = Field(3.0, gt=0, le=30, description="How long a place search waits for geocoder_url (s)")
