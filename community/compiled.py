"""Querysets compiled to SQL once, then run many times with other values.

For the small, hot queries of a page (the forum's topic page runs nine), Django building
the SQL costs more than PostgreSQL running it: the filters, joins and subqueries are
resolved and compiled anew on every call. ``run`` builds the queryset once per shape,
with stand-in values where the ids go, keeps its SQL and the compiler's description of
its columns, and afterwards only puts the real values in the parameters, runs the SQL
and turns the rows into what the queryset would have returned, with Django's own
machinery (``from_db``, the select_related populators, annotations, field converters),
as ``ModelIterable`` does. ``values_list()`` querysets give tuples (flat lists, dicts
and named rows are refused).

A shape is what changes the SQL and not just its parameters: the key the caller gives
(for instance the kind of viewer, when the filters differ for moderators), the length of
each list value (``pk__in``) and the database. Slices (LIMIT/OFFSET) are written into
the SQL, so they belong in the key too. Every stand-in must reach the parameters as
itself (ids, numbers compared to columns); compiling checks that each one did.

Not for querysets with ``prefetch_related`` (run the prefetch yourself), ``distinct`` on
fields the stand-ins feed, or anything whose SQL depends on a value rather than its
presence.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import (  # type: ignore[attr-defined]
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.sql.compiler import SQLCompiler

Value = int | Sequence[int]
# Stand-ins count up from here: larger than any id, count or post number the hub will
# hold, and still inside a 32-bit integer column's range (Django turns a comparison with
# a value outside the column's range into TRUE or FALSE, and the stand-in would vanish).
_BASE = 2_000_000_000

_compiled: dict[Hashable, _Compiled] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class _Compiled:
    db: str
    sql: str
    # per parameter: (value name, None or index in a list value), or (None, a constant)
    roles: tuple[tuple[str | None, Any], ...]
    compiler: SQLCompiler
    models: bool  # model instances (ModelIterable) or tuples


def _stand_ins(
    values: Mapping[str, Value],
) -> tuple[dict[str, Value], dict[int, tuple[str, int | None]]]:
    fake: dict[str, Value] = {}
    where: dict[int, tuple[str, int | None]] = {}
    n = _BASE
    for name, value in values.items():
        if isinstance(value, int):
            n += 1
            fake[name] = n
            where[n] = (name, None)
        else:
            items = []
            for i in range(len(value)):
                n += 1
                items.append(n)
                where[n] = (name, i)
            fake[name] = items
    return fake, where


def _compile(build: Callable[..., QuerySet[Any]], values: Mapping[str, Value]) -> _Compiled:
    fake, where = _stand_ins(values)
    queryset = build(**fake)
    if getattr(queryset, "_prefetch_related_lookups", ()):
        raise ValueError("compiled querysets cannot prefetch; run the prefetch separately")
    models = queryset._iterable_class is ModelIterable
    if not models and queryset._iterable_class is not ValuesListIterable:
        raise ValueError("compiled querysets give models or values_list() tuples (not flat)")
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()  # also fills compiler.select, klass_info, annotations
    roles: list[tuple[str | None, Any]] = []
    seen: set[int] = set()
    for param in params:
        if isinstance(param, int) and not isinstance(param, bool) and param in where:
            roles.append(where[param])
            seen.add(param)
        else:
            roles.append((None, param))
    missing = [where[n] for n in where if n not in seen]
    if missing:
        raise ValueError(f"stand-ins that did not reach the parameters: {missing}")
    compiler.connection = None  # bound per call: connections belong to threads
    return _Compiled(queryset.db, sql, tuple(roles), compiler, models)


def run(
    key: Hashable,
    build: Callable[..., QuerySet[Any]],
    values: Mapping[str, Value],
    *,
    window: tuple[int, int] | None = None,
) -> list[Any]:
    """What ``list(build(**values))`` gives, with ``build``'s SQL compiled once per
    ``key`` and shape. ``build`` takes the values as keyword arguments (ints, or lists
    of ints) and must build the same SQL for any values of the same shape. ``window``
    (offset, limit) is what slicing the queryset would do, as parameters: one compiled
    query serves every page (``build`` must not slice, and must order)."""
    shape = (
        key,
        tuple((name, None if isinstance(v, int) else len(v)) for name, v in values.items()),
    )
    found = _compiled.get(shape)
    if found is None:
        made = _compile(build, values)
        with _lock:
            found = _compiled.setdefault(shape, made)
    params: list[Any] = []
    for name, extra in found.roles:
        if name is None:
            params.append(extra)  # a constant of the query
        else:
            value = values[name]
            params.append(value if isinstance(value, int) else value[extra])
    sql = found.sql
    if window is not None:
        sql += " LIMIT %s OFFSET %s"
        params += [window[1], window[0]]
    connection = connections[found.db]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    compiler = copy.copy(found.compiler)
    compiler.connection = connection
    if not found.models:
        return list(compiler.results_iter([rows], tuple_expected=True))
    return list(_instances(compiler, found.db, rows))


def _instances(compiler: SQLCompiler, db: str, rows: list[Any]) -> Any:
    """``ModelIterable``'s loop over rows already fetched."""
    select, klass_info, annotation_col_map = (
        compiler.select,
        compiler.klass_info,
        compiler.annotation_col_map,
    )
    assert klass_info is not None
    model_cls: type[Model] = klass_info["model"]
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    init_list = [f[0].target.attname for f in select[start:end]]
    related_populators = get_related_populators(klass_info, select, db)
    for row in compiler.results_iter([rows]):
        obj = model_cls.from_db(db, init_list, row[start:end])
        for populator in related_populators:
            populator.populate(row, obj)
        if annotation_col_map:
            for attr_name, col_pos in annotation_col_map.items():
                setattr(obj, attr_name, row[col_pos])
        yield obj
