"""Every action the server writes to the admin audit log has a name in the console.

The audit log page (web/admin/pages/audit-log.js) shows an action by its label from
`ACTIONS` in web/admin/pages/admins/audit-messages.js and falls back to the raw code
("group.member_mute"), which a reader of the log should never have to decode. Actions
are added by whoever writes a new admin route, far from that table, so this test reads
both sides: the Python sources for the action of every `.audit(...)` call, the JS table
for its keys, and fails naming the call that has no label (or a label in one language
only, or a label for an action nothing records any more).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "semot"
LABELS = SRC / "web" / "admin" / "pages" / "admins" / "audit-messages.js"
ACTION_RE = re.compile(r"^[a-z][a-z_]*(\.[a-z_]+)+$")
# one entry of the table: "user.create": A("新建用户", "Create user"),
ENTRY_RE = re.compile(r'^\s*"(?P<key>[a-z_.]+)":\s*A\(\s*"(?P<zh>[^"]*)",\s*"(?P<en>[^"]*)"\s*\),?\s*$')


class _AuditCalls(ast.NodeVisitor):
    """The action argument of every `x.audit(...)` call outside the forwarding methods
    themselves (api/http.py's Call.audit and services/admin_access.py's AdminAccess.audit
    pass their `action` parameter on)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.scope: list[str] = []
        self.actions: list[tuple[str, str]] = []  # (action, file:line)
        self.unreadable: list[str] = []  # calls whose action is not a string literal

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr == "audit" and "audit" not in self.scope:
            where = f"{self.where}:{node.lineno}"
            # Call.audit(action, target, ...) or AdminAccess.audit(admin, action, target, ip, ...)
            keyword = next((k.value for k in node.keywords if k.arg == "action"), None)
            positional = node.args[1] if len(node.args) >= 4 else (node.args[0] if node.args else None)
            action = keyword or positional
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                self.actions.append((action.value, where))
            else:
                self.unreadable.append(where)
        self.generic_visit(node)


def audited_actions() -> tuple[dict[str, list[str]], list[str]]:
    """Every action string the server records -> where; and the calls it cannot read."""
    found: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        visitor = _AuditCalls(str(path.relative_to(SRC)))
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for action, where in visitor.actions:
            found.setdefault(action, []).append(where)
        unreadable += visitor.unreadable
    return found, unreadable


def labels() -> dict[str, tuple[str, str]]:
    """The console's ACTIONS table: key -> (zh-CN, en)."""
    text = LABELS.read_text(encoding="utf-8")
    start = text.index("export const ACTIONS = {")
    body = text[start : text.index("\n};", start)].splitlines()[1:]
    out: dict[str, tuple[str, str]] = {}
    for line in body:
        if not line.strip() or line.strip().startswith("//"):
            continue
        m = ENTRY_RE.match(line)
        assert m, f"audit-messages.js: an ACTIONS line this test cannot read (keep one A(zh, en) per line): {line!r}"
        assert m["key"] not in out, f"audit-messages.js: {m['key']} is labelled twice"
        out[m["key"]] = (m["zh"], m["en"])
    return out


def test_the_scan_finds_the_audited_actions() -> None:
    """The parser itself: it finds calls of both shapes, on one line or several."""
    found, unreadable = audited_actions()
    assert unreadable == [], f"audit actions must be string literals (so they can be labelled): {unreadable}"
    assert "user.create" in found  # call.audit("user.create", ...) on one line
    assert "login_logs.export" in found  # call.audit(\n "login_logs.export", ...)
    assert "users.import" in found and any(w.startswith("cli_users.py") for w in found["users.import"])
    assert all(ACTION_RE.match(a) for a in found), sorted(found)
    assert len(found) >= 25, sorted(found)


def test_every_audited_action_has_a_label_in_both_languages() -> None:
    found, _ = audited_actions()
    table = labels()
    missing = {a: w for a, w in sorted(found.items()) if a not in table}
    assert not missing, f"add these to ACTIONS in {LABELS.relative_to(SRC.parent.parent)}: {missing}"
    for key, (zh, en) in table.items():
        assert zh.strip() and en.strip(), f"{key}: a label in both zh-CN and English"
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{key}: the zh-CN label {zh!r} is not Chinese"
        assert en.isascii(), f"{key}: the English label {en!r}"


def test_no_label_for_an_action_nothing_records() -> None:
    """Keys ending in "." are the action filter's groups ("user." = every user.*)."""
    found, _ = audited_actions()
    table = labels()
    stale = [k for k in table if not k.endswith(".") and k not in found]
    assert not stale, f"labels for actions the server never records (renamed?): {stale}"
    empty = [k for k in table if k.endswith(".") and not any(a.startswith(k) for a in found)]
    assert not empty, f"action groups with no action in them: {empty}"
