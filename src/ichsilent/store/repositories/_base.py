"""Shared machinery: dialect-specific INSERT ... ON CONFLICT DO UPDATE that only writes
when something changed, plus small helpers every repository uses."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ichsilent.errors import StoreError
from ichsilent.store.models import Base


@dataclass(frozen=True, slots=True)
class Upserted:
    """Primary key of the row and whether this call inserted or changed it."""

    id: int
    changed: bool


def utcnow() -> datetime:
    return datetime.now(UTC)


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def greatest(session: Session, left: Any, right: Any) -> ColumnElement[Any]:
    """Larger of two values: GREATEST on PostgreSQL, two-argument max() on SQLite."""
    if dialect_name(session) == "postgresql":
        return func.greatest(left, right)
    return func.max(left, right)


def least(session: Session, left: Any, right: Any) -> ColumnElement[Any]:
    if dialect_name(session) == "postgresql":
        return func.least(left, right)
    return func.min(left, right)


class Repository:
    """Base class: holds the session; never commits (the caller's session_scope does)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _upsert(
        self,
        model: type[Base],
        values: Mapping[str, Any],
        *,
        key: Collection[str],
        insert_only: Collection[str] = (),
        touch: Collection[str] = (),
        merge: Mapping[str, Any] | None = None,
    ) -> Upserted:
        """Insert ``values``, or update the row with the same natural ``key``.

        On conflict every column in ``values`` except ``key``, ``insert_only`` and ``touch``
        is overwritten, but only when at least one of them (or a ``merge`` expression)
        differs from what is stored: an identical re-run writes nothing, so ``touch``
        columns such as ``updated_at`` move only on a real change.
        ``merge`` maps column -> function(table, excluded) giving the new value
        (e.g. the greater of stored and new ``last_seen_at``).
        """
        table = table_of(model)
        dialect = dialect_name(self.session)
        if dialect == "postgresql":
            stmt: Any = postgresql.insert(table).values(dict(values))
        elif dialect == "sqlite":
            stmt = sqlite.insert(table).values(dict(values))
        else:
            raise StoreError(f"upsert on dialect {dialect!r}; expected sqlite or postgresql")
        excluded = stmt.excluded
        skip = set(key) | set(insert_only) | set(touch) | set(merge or {})
        compared = {name: excluded[name] for name in values if name not in skip}
        for name, build in (merge or {}).items():
            compared[name] = build(table, excluded)
        if not compared:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
        else:
            set_ = dict(compared)
            set_.update({name: excluded[name] for name in touch})
            changed = or_(
                *(table.c[name].is_distinct_from(expr) for name, expr in compared.items())
            )
            stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=set_, where=changed)
        self.session.flush()
        result = self.session.execute(stmt)
        row_id = self.session.execute(
            select(table.c.id).where(and_(*(table.c[name] == values[name] for name in key)))
        ).scalar_one()
        return Upserted(id=row_id, changed=bool(getattr(result, "rowcount", 0)))
