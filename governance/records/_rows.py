"""A model's rows across every table that refers to it, found by foreign keys.

Many areas of the console store rows about a model version (assessments, cards,
sign-offs, monitoring windows, incidents, documents). Rather than list those
tables here and fall behind as areas are added, the tables are reflected from
the database and followed along their foreign keys from ``governed_model`` and
``model_version``: what an archive copies and what a retention purge deletes is
exactly what depends on the model in the schema as it stands.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    MetaData,
    Table,
    delete,
    func,
    or_,
    select,
)


@dataclass(frozen=True)
class Dependent:
    """A table and the condition that picks the rows depending on the subject."""

    table: Table
    condition: ColumnElement[bool]
    depth: int


def reflect(connection: Connection) -> MetaData:
    """The tables of the store as they are now."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    return metadata


def dependents(
    metadata: MetaData, table_name: str, condition: ColumnElement[bool]
) -> list[Dependent]:
    """``table_name``'s rows under ``condition`` and every row referring to them.

    Parents come before their children; a table met again on its own path (a
    cycle) is not followed a second time.
    """
    found: list[Dependent] = []
    _walk(metadata, metadata.tables[table_name], condition, 0, (table_name,), found)
    return found


def _walk(
    metadata: MetaData,
    table: Table,
    condition: ColumnElement[bool],
    depth: int,
    path: tuple[str, ...],
    found: list[Dependent],
) -> None:
    found.append(Dependent(table, condition, depth))
    for child, column, referred in _children(metadata, table):
        if child.name in path:
            continue
        picked = child.c[column].in_(select(table.c[referred]).where(condition))
        _walk(metadata, child, picked, depth + 1, (*path, child.name), found)


def _children(metadata: MetaData, parent: Table) -> Iterator[tuple[Table, str, str]]:
    for table in sorted(metadata.tables.values(), key=lambda item: item.name):
        for key in table.foreign_keys:
            if key.column.table.name == parent.name:
                yield table, key.parent.name, key.column.name


def read_rows(connection: Connection, found: list[Dependent]) -> dict[str, list[Any]]:
    """Every row picked, by table name, as plain dicts."""
    rows: dict[str, list[Any]] = {}
    for item in found:
        result = connection.execute(select(item.table).where(item.condition))
        rows.setdefault(item.table.name, []).extend(
            dict(row._mapping) for row in result
        )
    return rows


def count_rows(connection: Connection, found: list[Dependent]) -> dict[str, int]:
    """How many rows are picked, by table name (a row reached twice counts once)."""
    conditions: dict[str, list[ColumnElement[bool]]] = {}
    tables: dict[str, Table] = {}
    for item in found:
        conditions.setdefault(item.table.name, []).append(item.condition)
        tables[item.table.name] = item.table
    counts = {}
    for name, picked in conditions.items():
        query = select(func.count()).select_from(tables[name]).where(or_(*picked))
        counts[name] = int(connection.execute(query).scalar_one())
    return counts


def delete_rows(connection: Connection, found: list[Dependent]) -> None:
    """Delete every row picked, children first."""
    for item in sorted(found, key=lambda entry: entry.depth, reverse=True):
        connection.execute(delete(item.table).where(item.condition))
