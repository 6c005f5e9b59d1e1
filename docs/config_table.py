"""Print the README's configuration table from the Settings model.

    python docs/config_table.py

Paste the output into README.md whenever the settings (src/semot/config/) change, so the table
never drifts from what the server accepts.
"""

from __future__ import annotations

from pathlib import Path

from semot.config import Settings


def _default(field) -> str:  # type: ignore[no-untyped-def]
    value = field.default_factory() if field.default_factory is not None else field.default
    if value is None:
        return "*(unset)*"
    if value in ("", [], {}):
        return "*(empty)*"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Path):
        return f"`{value.as_posix() if value.is_absolute() else './' + value.as_posix()}`"
    return f"`{value}`"


def main() -> None:
    print("| setting | environment variable | default | meaning |")
    print("|---|---|---|---|")
    for name, field in Settings.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        print(f"| `{name}` | `SEMOT_{name.upper()}` | {_default(field)} | {meaning} |")


if __name__ == "__main__":
    main()
