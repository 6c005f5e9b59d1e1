"""Issue 11 in a real browser: sending a location without typing coordinates (browser
geolocation from Playwright's context), its errors under the right field, the received
card with the server's map link; the emoji picker (search in English and Chinese,
keyboard, insert at the caret, recently used per user)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import direct, new_user
from tests.support.server import ServerProcess

MAP = "https://maps.intranet.example/show?lat={lat}&lon={lng}"
HERE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 25}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A server whose client configuration points location links at an intranet map."""
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp) / "data", env={"SEMOT_MAP_URL_TEMPLATE": MAP}).start()
        yield srv
        srv.kill()


def test_send_my_current_position_without_typing(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a = open_tab(alice, locale="en", geolocation=HERE, permissions=["geolocation"])
    b = open_tab(bob, locale="en")
    page = a.page
    a.open_direct(bob)
    page.click("[data-testid=location-btn]")
    # the site may use the position: it is taken at once and shown, no coordinates typed
    page.wait_for_selector("[data-testid=loc-preview]")
    assert page.locator("[data-testid=loc-point]").inner_text() == "31.23040° N, 121.47370° E"
    assert page.locator("[data-testid=loc-accuracy]").inner_text() == "Current position (within 25 m)"
    assert page.locator("[data-testid=loc-preview-map]").get_attribute("href") == MAP.format(lat=31.2304, lng=121.4737)
    assert not page.locator("[data-testid=loc-lat]").is_visible(), "coordinate fields stay folded away"
    page.fill("[data-testid=loc-title]", "<b>People's Square</b>")
    page.fill("[data-testid=loc-addr]", "120 Renmin Ave")
    assert "<b>People's Square</b>" in page.locator("[data-testid=loc-preview]").inner_text()
    page.click("[data-testid=loc-send]")
    page.wait_for_selector("[data-testid=dlg-location]", state="hidden")

    conv = direct(alice, bob)
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    card = b.page.wait_for_selector("[data-testid=location]")
    text = card.inner_text()
    assert "<b>People's Square</b>" in text and "120 Renmin Ave" in text  # user content as text
    assert b.page.locator("[data-testid=loc-coords]").inner_text() == "31.23040, 121.47370"
    assert b.page.locator("[data-testid=loc-open]").inner_text().startswith("Open in a map")
    assert card.get_attribute("href") == MAP.format(lat=31.2304, lng=121.4737)  # the server's template
    assert card.get_attribute("target") == "_blank" and "noopener" in (card.get_attribute("rel") or "")

    # the re-pick button works too (a fresh request to the browser)
    page.click("[data-testid=location-btn]")
    page.wait_for_selector("[data-testid=loc-preview]")
    page.click("[data-testid=loc-mine]")
    page.wait_for_selector("[data-testid=loc-point]:has-text('31.23040')")
    page.keyboard.press("Escape")
    a.assert_no_console_errors()
    b.assert_no_console_errors()


def test_typed_coordinates_errors_show_under_their_field(server: ServerProcess, open_tab: Any) -> None:
    """Before: an invalid latitude was reported under the address field."""
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a = open_tab(alice, locale="en")  # no permission: the browser refuses the position
    page = a.page
    a.open_direct(bob)
    page.click("[data-testid=location-btn]")
    page.click("[data-testid=loc-mine]")
    page.wait_for_selector("[data-testid=loc-pick-error]:has-text('denied')")
    page.wait_for_selector("[data-testid=loc-lat]")  # the other way opens by itself
    page.fill("[data-testid=loc-lat]", "95")
    page.fill("[data-testid=loc-lng]", "121.4737")
    page.click("[data-testid=loc-send]")
    err = page.wait_for_selector("[data-testid=loc-lat-item] .el-form-item__error")
    assert err.inner_text() == "The latitude is a number from -90 to 90"
    assert page.locator("[data-testid=loc-addr-item] .el-form-item__error").count() == 0
    assert page.locator("[data-testid=loc-lng-item] .el-form-item__error").count() == 0
    page.fill("[data-testid=loc-lat]", "31.2304")
    page.fill("[data-testid=loc-lng]", "east")
    page.click("[data-testid=loc-send]")
    page.wait_for_selector("[data-testid=loc-lng-item] .el-form-item__error:has-text('longitude')")
    page.wait_for_selector("[data-testid=loc-lat-item] .el-form-item__error", state="detached")
    # a pair typed into the first field fills both
    page.fill("[data-testid=loc-lng]", "")
    page.fill("[data-testid=loc-lat]", "22.5431, 114.0579")
    page.click("[data-testid=loc-send]")
    page.wait_for_selector("[data-testid=dlg-location]", state="hidden")
    page.wait_for_selector("[data-testid=location]:has-text('22.54310, 114.05790')")
    a.assert_no_console_errors(allow=lambda m: "geolocation" in m.lower())


def test_emoji_picker_search_keyboard_caret_and_recent(server: ServerProcess, open_tab: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a = open_tab(alice, locale="en")
    page = a.page
    a.open_direct(bob)
    page.fill("[data-testid=composer]", "ab")
    page.evaluate("() => document.querySelector('textarea[data-testid=composer]').setSelectionRange(1, 1)")

    page.click("[data-testid=emoji-btn]")
    search = page.wait_for_selector("[data-testid=emoji-search]")
    page.wait_for_selector("[data-testid=emoji-option]")
    page.wait_for_function("() => document.activeElement?.dataset.testid === 'emoji-search'")
    assert page.locator("[data-testid^=emoji-tab-]").count() == 8  # the categories (nothing used yet)
    page.click("[data-testid=emoji-tab-food]")
    page.wait_for_selector("[data-testid=emoji-option][data-emoji='🍉']")
    # search in English, then in Chinese
    search.fill("thumbs up")
    first = page.wait_for_selector("[data-testid=emoji-option] >> nth=0")
    thumbs = first.get_attribute("data-emoji") or ""
    assert thumbs.startswith("👍")
    search.fill("猫")
    page.wait_for_selector("[data-testid=emoji-option][data-emoji='🐱']")
    search.fill("nothing-is-called-this")
    page.wait_for_selector("[data-testid=emoji-none]")
    # keyboard: Down into the grid, Right, Enter picks; inserted at the caret
    search.fill("thumbs")
    page.wait_for_selector(f"[data-testid=emoji-option][data-emoji='{thumbs}']")
    names = page.eval_on_selector_all("[data-testid=emoji-option]", "els => els.map(e => e.dataset.emoji)")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement?.dataset.index === '1'")
    page.keyboard.press("Enter")
    picked = names[1]
    page.wait_for_selector("[data-testid=emoji-picker]", state="hidden")
    value = page.input_value("[data-testid=composer]")
    assert value == f"a{picked}b", value

    # recently used comes first next time, for this user only
    page.click("[data-testid=emoji-btn]")
    page.wait_for_selector("[data-testid=emoji-tab-recent][aria-selected=true]")
    page.wait_for_selector(f"[data-testid=emoji-picker]:visible [data-testid=emoji-option][data-emoji='{picked}']")
    page.click("[data-testid=emoji-tab-smileys]")
    page.click("[data-testid=emoji-option][data-emoji='😂']")
    assert page.input_value("[data-testid=composer]") == f"a{picked}😂b"
    recent = page.evaluate(f"() => JSON.parse(localStorage.getItem('semot.emoji.recent.{alice}'))")
    assert recent[:2] == ["😂", picked]
    assert page.evaluate(f"() => localStorage.getItem('semot.emoji.recent.{bob}')") is None
    # Escape closes the picker without inserting anything
    page.click("[data-testid=emoji-btn]")
    page.wait_for_function("() => document.activeElement?.dataset.testid === 'emoji-search'")
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-testid=emoji-picker]", state="hidden")
    page.press("[data-testid=composer]", "Enter")
    a.wait_texts([f"a{picked}😂b"])
    a.assert_no_console_errors()
