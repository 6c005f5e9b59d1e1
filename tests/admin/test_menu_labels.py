"""The console names each menu with the product brief's word, the same everywhere.

The menu catalogue (domain/admin_perms.py `MENUS`, shown in the role editor) carries the
issue's names (终端配置, 信息中心); the shell's sidebar (web/admin/i18n.js) and a page
module's own `messages` (which override the shell's once the page loads) are separate
tables, and drifted: the sidebar said 客户端配置 while the page said 终端配置. Static:
every Chinese `"menu.<page>"` string under web/admin must be the catalogue's label.
"""

from __future__ import annotations

import re
from pathlib import Path

from semot.domain.admin_perms import MENUS

ADMIN = Path(__file__).resolve().parents[2] / "src" / "semot" / "web" / "admin"
MENU_RE = re.compile(r'"menu\.(?P<key>[a-z-]+)":\s*"(?P<label>[^"]*)"')
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_chinese_menu_labels_match_the_catalogue() -> None:
    catalogue = {m.key: m.zh for m in MENUS if not m.reserved}
    seen: dict[str, list[str]] = {}
    wrong = []
    for path in sorted(ADMIN.rglob("*.js")):
        for m in MENU_RE.finditer(path.read_text(encoding="utf-8")):
            key, label = m["key"], m["label"]
            if key not in catalogue or not CJK.search(label):
                continue  # English, or a shell string (menu.collapse) / a page without a menu of its own
            seen.setdefault(key, []).append(str(path.relative_to(ADMIN)))
            if label != catalogue[key]:
                wrong.append(
                    f"{path.relative_to(ADMIN)}: menu.{key} is {label!r}, the catalogue says {catalogue[key]!r}"
                )
    assert not wrong, wrong
    assert "i18n.js" in seen["client-config"] and "i18n.js" in seen["dashboard"], seen
    assert set(seen) == set(catalogue), f"menus the shell does not name: {set(catalogue) - set(seen)}"
