"""Usernames: the login names, unique regardless of case."""

from __future__ import annotations


def username_key(username: str) -> str:
    """The case-folded form that must be unique: `CaseUser` and `caseuser` are one name.

    Usernames are ASCII (A-Z a-z 0-9 _ . -), so lower-casing is the whole folding; it is
    also what the 0006 migration stored for existing accounts."""
    return username.lower()
