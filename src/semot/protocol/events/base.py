"""The bases every push model shares: strict (`extra="forbid"`), frozen, wire names.

Kept apart so each area's module (messages, groups, contacts, ...) builds on the same
rules; the package's `__init__` lists every model and parses pushes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class _Push(_Model):
    def to_json(self) -> bytes:
        """The push as compact UTF-8 JSON (what the bus carries; the hub frames it)."""
        return self.__pydantic_serializer__.to_json(self)


class _Event(_Push):
    t: Literal["evt"] = "evt"
    evt: str
