"""Customer service's storage (docs/customer-service.md): queues, agents, visitors,
sessions and the widget's settings.

Session changes that race (two agents accepting one waiting visitor, a close racing a
transfer) are conditional updates: `update_session` applies only while the session is
in one of `states`, so exactly one of the racers wins, on one node or several. Routing
on several nodes at once cannot overfill an agent: `update_session(within_limit=agent)`
counts the agent's active sessions under a lock on the agent's row (PostgreSQL; SQLite
has one writer). A visitor has at most one open session: `add_session` refuses a second.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

from semot.domain.customer_service import Agent, Queue, Session, Visitor


class CustomerServiceStorage(abc.ABC):
    # --- queues
    @abc.abstractmethod
    async def queues(self) -> list[Queue]:
        """By position, then name."""

    @abc.abstractmethod
    async def put_queue(self, queue: Queue) -> None:
        """Insert or replace."""

    @abc.abstractmethod
    async def delete_queue(self, queue_id: str) -> bool: ...

    # --- agents
    @abc.abstractmethod
    async def agents(self) -> list[Agent]:
        """Oldest first."""

    @abc.abstractmethod
    async def get_agent(self, user_id: str) -> Agent | None: ...

    @abc.abstractmethod
    async def put_agent(self, agent: Agent) -> None:
        """Insert or replace."""

    @abc.abstractmethod
    async def delete_agent(self, user_id: str) -> bool: ...

    @abc.abstractmethod
    async def set_agent_state(self, user_id: str, state: str) -> bool: ...

    # --- the widget's settings (one JSON document)
    @abc.abstractmethod
    async def settings(self) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def put_settings(self, settings: dict[str, Any]) -> None: ...

    # --- visitors
    @abc.abstractmethod
    async def add_visitor(self, visitor: Visitor) -> None: ...

    @abc.abstractmethod
    async def visitor_by_key(self, key_hash: str) -> Visitor | None: ...

    @abc.abstractmethod
    async def visitor_ids(self, user_ids: Iterable[str]) -> set[str]:
        """Those of `user_ids` who are anonymous visitors."""

    @abc.abstractmethod
    async def touch_visitor(self, user_id: str, now: int) -> None:
        """Seen now (not a forgotten one)."""

    @abc.abstractmethod
    async def idle_visitors(self, before: int, limit: int) -> list[str]:
        """Visitors not seen since `before`, not forgotten, with no open session (least recently seen first)."""

    @abc.abstractmethod
    async def forget_visitor(self, user_id: str, before: int) -> bool:
        """Drop the visitor's key (it resumes nobody: `visitor_by_key` never finds it)
        and mark it forgotten, if it is still unseen since `before` with no open
        session; False when it did not apply (seen meanwhile, forgotten by another node)."""

    # --- customers: users of an integrator's site (PUT /api/server/v1/users `external`),
    # restricted to customer service like anonymous visitors
    @abc.abstractmethod
    async def set_customer(self, user_id: str, customer: bool, now: int) -> bool:
        """Mark or unmark `user_id` a customer; True when it changed."""

    @abc.abstractmethod
    async def customer_ids(self, user_ids: Iterable[str]) -> set[str]:
        """Those of `user_ids` marked customers."""

    # --- sessions
    @abc.abstractmethod
    async def add_session(self, session: Session) -> bool:
        """False (nothing added) when the session's visitor has an open session already."""

    @abc.abstractmethod
    async def get_session(self, session_id: str) -> Session | None: ...

    @abc.abstractmethod
    async def session_by_conv(self, conv: str) -> Session | None: ...

    @abc.abstractmethod
    async def sessions(
        self, *, states: Iterable[str] | None = None, visitor_id: str | None = None, agent_id: str | None = None,
        queue_ids: Iterable[str] | None = None, since: int | None = None, until: int | None = None,
        limit: int = 200, newest_first: bool = False,
    ) -> list[Session]:
        """Matching sessions by created_at (oldest first unless `newest_first`)."""

    @abc.abstractmethod
    async def active_counts(self, agent_ids: Iterable[str]) -> dict[str, int]:
        """Active sessions per agent (agents with none are absent)."""

    @abc.abstractmethod
    async def update_session(
        self, session_id: str, values: dict[str, Any], *, states: Iterable[str] | None = None,
        unset: str | None = None, within_limit: str | None = None,
    ) -> Session | None:
        """Set `values` if the session is in one of `states` (any, when None), with
        `unset` that column is still null, and with `within_limit` (an agent's id) that
        agent has fewer active sessions than their `max_concurrent` (atomically: see
        above); the session after, or None when it did not apply (also when it would
        give its visitor a second open session)."""
