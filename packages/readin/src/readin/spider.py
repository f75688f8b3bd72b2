"""Spider's component-level *exact set match* for CSpider, re-implemented (no code from the official evaluator).

The official evaluator (taoyds/spider ``evaluation.py`` + ``process_sql.py``) parses gold and predicted SQL into
clauses against the database schema, drops literal values and ``DISTINCT``, maps foreign-key columns to one
representative, and compares ten components, each as a *multiset* where the order does not matter:

============== ======================================================================================
component      matched when
============== ======================================================================================
select         the select items (aggregate + expression) agree as multisets
select(no AGG) the select expressions agree, aggregates ignored
where          the WHERE conditions (expression, operator, NOT, nested query; no literal values) agree
where(no OP)   the WHERE expressions agree, operators ignored
group(no Having) the GROUP BY column names agree (the table is ignored, as in the official code)
group          GROUP BY columns (in order) and HAVING conditions agree, or neither has GROUP BY
order          ORDER BY expressions (in order) and direction agree, LIMIT present in both or in neither
and/or         the sets of WHERE connectives agree
IUEN           INTERSECT / UNION / EXCEPT sub-queries exactly set-match
keywords       the sets of keywords (where, group, having, order, asc/desc, limit, iuen, or, not, in, like)
============== ======================================================================================

Exact set match = every component matches and the FROM tables (tables, or nested FROM queries) agree as multisets.
Clause order inside SELECT / WHERE therefore does not matter, aliases (``T1``) are resolved to tables, and
``WHERE x > 3`` matches ``WHERE x > 5`` (values are not compared, as in the official default).

Differences from the official evaluator (all on the robust side; scores of parsable pairs are the same):

- an unparsable *prediction* scores 0 instead of raising; an unparsable *gold* query raises :class:`SQLParseError`
  from :func:`parse_sql` (callers such as :func:`exact_set_match` can ask for the string fallback instead);
- the schema is optional: without one, a bare column is attributed to the only table of its FROM clause, or kept
  unqualified when the FROM clause has several (pass a :class:`Schema` for Spider's exact behaviour);
- ``<>`` is read as ``!=``; select-list aliases (``count(*) AS n ... ORDER BY n``) are resolved instead of failing;
  parenthesised condition groups are flattened (the official representation is flat too).

The hardness levels (easy / medium / hard / extra) follow the official counting rules, including its quirks (a NOT
condition counts as an aggregation; two HAVING conditions add one), so the levels agree with published splits.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "SQLParseError",
    "Schema",
    "Query",
    "parse_sql",
    "component_scores",
    "exact_set_match",
    "hardness",
    "COMPONENTS",
]

COMPONENTS = (
    "select",
    "select(no AGG)",
    "where",
    "where(no OP)",
    "group(no Having)",
    "group",
    "order",
    "and/or",
    "IUEN",
    "keywords",
)

_CLAUSES = ("select", "from", "where", "group", "order", "limit", "intersect", "union", "except", "having")
_AGGS = ("max", "min", "count", "sum", "avg")
_OPS = ("between", "=", ">", "<", ">=", "<=", "!=", "in", "like", "is", "exists")
_SET_OPS = ("intersect", "union", "except")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
      | (?P<num>\d+(?:\.\d+)?(?:e[-+]?\d+)?\b)
      | (?P<op>>=|<=|!=|<>|==|[=<>(),*+\-/;])
      | (?P<word>`[^`]*`|\[[^\]]*\]|[^\s'"=<>!(),*+\-/;`]+)
    )""",
    re.X | re.I,
)


class SQLParseError(ValueError):
    """The SQL could not be read into Spider's clause structure."""


# ---- schema -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """Lower-cased tables and their columns, plus Spider's foreign-key column map (``"t.c" -> "t0.c0"``)."""

    tables: Mapping[str, tuple[str, ...]]
    foreign_keys: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_sqlite(cls, path: str | Path) -> Schema:
        """Read the tables and columns of a SQLite file (read-only; no foreign keys, see :meth:`from_spider`)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such database")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            tables = {n.lower(): tuple(str(c[1]).lower() for c in conn.execute(f'PRAGMA table_info("{n}")')) for n in names}
        finally:
            conn.close()
        return cls(tables)

    @classmethod
    def from_spider(cls, entry: Mapping[str, Any]) -> Schema:
        """One entry of Spider's ``tables.json`` (``table_names_original``, ``column_names_original``, ``foreign_keys``).

        Foreign-key columns that are linked (transitively) map to the linked column with the smallest index, which is
        how the official evaluator makes ``T1.id`` and ``T2.owner_id`` of a join interchangeable.
        """
        tables_orig = [t.lower() for t in entry["table_names_original"]]
        cols = []
        tables: dict[str, list[str]] = {t: [] for t in tables_orig}
        for t_idx, name in entry["column_names_original"]:
            if t_idx < 0:
                cols.append("*")
                continue
            cols.append(f"{tables_orig[t_idx]}.{name.lower()}")
            tables[tables_orig[t_idx]].append(name.lower())
        groups: list[set[int]] = []
        for a, b in entry.get("foreign_keys", []):
            hit = [g for g in groups if a in g or b in g]
            # the official map merges a pair into the first group holding either column (not a full union-find)
            group = hit[0] if hit else set()
            if not hit:
                groups.append(group)
            group.update((a, b))
        fk = {cols[i]: cols[min(g)] for g in groups for i in g}
        return cls({t: tuple(c) for t, c in tables.items()}, fk)

    @classmethod
    def load_tables_json(cls, path: str | Path) -> dict[str, Schema]:
        """``db_id -> Schema`` from Spider's (or CSpider's) ``tables.json``."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {entry["db_id"]: cls.from_spider(entry) for entry in data}


# ---- parsed form -------------------------------------------------------------------------------------------------

# col:  (agg or "", column id, distinct)         column id: "table.col", "*" or a bare "col" without a schema
# val:  (unit op or "", col, col or None)
# cond: (not, op, val, value1, value2)           value: Query, or None once literals are dropped
# table unit: ("table", name) or ("sql", Query)


@dataclass(frozen=True)
class Query:
    """One SQL query in Spider's clause structure, literal values already dropped (hashable, comparable)."""

    select: tuple[tuple[str, tuple], ...]
    tables: tuple[tuple[str, Any], ...]
    join_conds: tuple[Any, ...] = ()
    where: tuple[Any, ...] = ()
    group_by: tuple[tuple, ...] = ()
    having: tuple[Any, ...] = ()
    order_by: tuple[str, tuple[tuple, ...]] | None = None
    limit: bool = False
    intersect: Query | None = None
    union: Query | None = None
    except_: Query | None = None
    distinct: bool = False

    def nested(self) -> list[Query]:
        """Sub-queries in conditions plus the INTERSECT / EXCEPT / UNION parts (the official ``get_nestedSQL``)."""
        out = [
            v
            for cond in (*self.join_conds[::2], *self.where[::2], *self.having[::2])
            for v in cond[3:]
            if isinstance(v, Query)
        ]
        return out + [q for q in (self.intersect, self.except_, self.union) if q is not None]


def _tokenize(sql: str) -> list[str]:
    toks: list[str] = []
    pos, text = 0, sql.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise SQLParseError(f"cannot read {text[pos : pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        tok = m.group(kind)
        if kind == "str":
            toks.append("'" + tok[1:-1] + "'")
        elif kind == "word" and tok[0] in "`[":
            toks.append(tok[1:-1].lower())
        else:
            toks.append({"<>": "!=", "==": "="}.get(tok, tok.lower()))
    while toks and toks[-1] == ";":
        toks.pop()
    return toks


class _Parser:
    def __init__(self, toks: list[str], schema: Schema | None) -> None:
        self.toks = toks
        self.i = 0
        self.schema = schema

    # token helpers
    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None:
            raise SQLParseError(f"unexpected end of query (expected {expected or 'a token'})")
        if expected is not None and tok != expected:
            raise SQLParseError(f"expected {expected!r}, got {tok!r} at token {self.i}")
        self.i += 1
        return tok

    def accept(self, tok: str) -> bool:
        if self.peek() == tok:
            self.i += 1
            return True
        return False

    # queries
    def query(self) -> Query:
        core = self.select_core()
        parts: dict[str, Query] = {}
        op = self.peek()
        if op in _SET_OPS:
            self.i += 1
            parts[op] = self.query()
        return Query(
            **core,
            intersect=parts.get("intersect"),
            union=parts.get("union"),
            except_=parts.get("except"),
        )

    def _find_from(self) -> int:
        depth = 0
        for j in range(self.i, len(self.toks)):
            tok = self.toks[j]
            if tok == "(":
                depth += 1
            elif tok == ")":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and tok == "from":
                return j
            elif depth == 0 and tok in _SET_OPS:
                break
        raise SQLParseError("no FROM clause")

    def select_core(self) -> dict[str, Any]:
        self.take("select")
        select_start = self.i
        self.i = self._find_from()
        self.take("from")
        tables, join_conds, scope = self.from_clause()
        after_from = self.i
        self.scope = scope
        self.i = select_start
        distinct = self.accept("distinct")
        select, aliases = [], {}
        while True:
            agg, val = self.select_item()
            select.append((agg, val))
            if self.accept("as") or (self.peek() not in (",", "from", None) and self.peek() not in _CLAUSES):
                aliases[self.take()] = (agg, val)
            if not self.accept(","):
                break
        if self.peek() != "from":
            raise SQLParseError(f"unexpected {self.peek()!r} in the select list")
        self.i = after_from
        self.scope, self.aliases = scope, aliases
        out: dict[str, Any] = {"select": tuple(select), "tables": tables, "join_conds": join_conds, "distinct": distinct}
        if self.accept("where"):
            out["where"] = self.condition()
        if self.accept("group"):
            self.take("by")
            cols = [self.col_unit()]
            while self.accept(","):
                cols.append(self.col_unit())
            out["group_by"] = tuple(cols)
        if self.accept("having"):
            out["having"] = self.condition()
        if self.accept("order"):
            self.take("by")
            direction, vals = "asc", []
            while True:
                vals.append(self.val_unit())
                if self.peek() in ("asc", "desc"):
                    direction = self.take()  # the official parser keeps one direction: the last one written
                if not self.accept(","):
                    break
            out["order_by"] = (direction, tuple(vals))
        if self.accept("limit"):
            self.take()
            out["limit"] = True
        tok = self.peek()
        if tok is not None and tok not in _SET_OPS and tok != ")":
            raise SQLParseError(f"unexpected {tok!r} at token {self.i}")
        return out

    def from_clause(self) -> tuple[tuple, tuple, dict[str, str]]:
        units: list[tuple[str, Any]] = []
        conds: list[Any] = []
        scope: dict[str, str] = {}  # alias or table name -> table name
        while True:
            if self.accept("("):
                sub = _Parser(self.toks, self.schema)
                sub.i = self.i
                units.append(("sql", sub.query()))
                self.i = sub.i
                self.take(")")
                if self.accept("as") or (
                    self.peek() not in (None, ",", ")", "join", "on") and self.peek() not in (*_CLAUSES, *_SET_OPS)
                ):
                    self.take()
            else:
                name = self.take()
                if name in _CLAUSES or name in ("(", ")", ","):
                    raise SQLParseError(f"expected a table name, got {name!r}")
                units.append(("table", name))
                scope[name] = name
                if self.accept("as") or (
                    self.peek() not in (None, ",", ")", "join", "on", "inner", "left", "right", "natural", "cross")
                    and self.peek() not in _CLAUSES
                    and self.peek() not in _SET_OPS
                ):
                    scope[self.take()] = name
            if self.accept("on"):
                self.scope, self.aliases = scope, {}
                if conds:
                    conds.append("and")
                conds.extend(self.condition())
            if self.accept(","):
                continue
            while self.peek() in ("inner", "left", "right", "outer", "natural", "cross"):
                self.i += 1
            if self.accept("join"):
                continue
            break
        return tuple(units), tuple(conds), scope

    def select_item(self) -> tuple[str, tuple]:
        tok = self.peek()
        if tok in _AGGS and self.peek(1) == "(":
            self.i += 2
            distinct = self.accept("distinct")
            val = self.val_unit()
            self.take(")")
            if distinct and val[0] == "" and val[2] is None:  # count(distinct x): distinct belongs to the column
                val = ("", (val[1][0], val[1][1], True), None)
            if self.peek() in ("+", "-", "*", "/") and val[0] == "" and val[2] is None:
                # max(a) - min(a): arithmetic of aggregated columns (the aggregates move onto the columns)
                op = self.take()
                return "", (op, (tok, val[1][1], val[1][2]), self.col_unit())
            return tok, val
        return "", self.val_unit()

    def val_unit(self) -> tuple:
        if self.peek() == "(" and self.peek(1) != "select":
            self.i += 1
            val = self.val_unit()
            self.take(")")
            return val
        left = self.col_unit()
        if self.peek() in ("+", "-", "*", "/"):
            op = self.take()
            return (op, left, self.col_unit())
        return ("", left, None)

    def col_unit(self) -> tuple:
        tok = self.peek()
        if tok in _AGGS and self.peek(1) == "(":
            self.i += 2
            distinct = self.accept("distinct")
            inner = self.col_unit()
            self.take(")")
            return (tok, inner[1], distinct or inner[2])
        if tok == "(":
            self.i += 1
            inner = self.col_unit()
            self.take(")")
            return inner
        distinct = self.accept("distinct")
        name = self.take()
        if name in _CLAUSES or name in ("(", ")", ",") or name[0] == "'":
            raise SQLParseError(f"expected a column, got {name!r}")
        if name in getattr(self, "aliases", {}):
            agg, val = self.aliases[name]
            if val[0] == "" and val[2] is None:
                return (agg or val[1][0], val[1][1], val[1][2] or distinct)
        return ("", self.resolve(name), distinct)

    def resolve(self, name: str) -> str:
        if name == "*":
            return "*"
        scope = getattr(self, "scope", {})
        if "." in name:
            alias, col = name.split(".", 1)
            if alias not in scope:
                raise SQLParseError(f"unknown table or alias {alias!r}")
            return f"{scope[alias]}.{col}"
        tables = list(dict.fromkeys(scope.values()))
        if not tables:  # FROM holds only sub-queries: a column of their output, kept by name
            return name
        if self.schema is not None:
            for t in tables:
                if name in self.schema.tables.get(t, ()):
                    return f"{t}.{name}"
            raise SQLParseError(f"column {name!r} is in none of the tables {tables}")
        if len(tables) == 1:
            return f"{tables[0]}.{name}"
        return name

    def condition(self) -> tuple[Any, ...]:
        out: list[Any] = []
        while True:
            if self.peek() == "(" and self.peek(1) != "select" and self._group_ahead():
                self.i += 1
                out.extend(self.condition())
                self.take(")")
            elif self.peek() == "not" and self.peek(1) not in ("exists", "("):
                self.i += 1  # WHERE NOT a = b: the negation of one condition
                unit = self.cond_unit()
                out.append((not unit[0], *unit[1:]))
            elif self.peek() == "not" and self.peek(1) == "exists" or self.peek() == "exists":
                neg = self.accept("not")
                self.take("exists")
                out.append((neg, "exists", ("", ("", "*", False), None), self.value(), None))
            else:
                out.append(self.cond_unit())
            if self.peek() in ("and", "or"):
                out.append(self.take())
                continue
            return tuple(out)

    def _group_ahead(self) -> bool:
        """Whether the parenthesis at the cursor opens a condition group (it holds a comparison operator)."""
        depth = 0
        for j in range(self.i, len(self.toks)):
            tok = self.toks[j]
            if tok == "(":
                depth += 1
            elif tok == ")":
                depth -= 1
                if depth == 0:
                    return False
            elif depth == 1 and (tok in _OPS or tok == "not"):
                return True
        return False

    def cond_unit(self) -> tuple:
        val = self.val_unit()
        neg = self.accept("not")
        op = self.take()
        if op not in _OPS:
            raise SQLParseError(f"expected a comparison operator, got {op!r}")
        if op == "is" and self.accept("not"):
            neg = True
        v1 = self.value()
        v2 = None
        if op == "between":
            self.take("and")
            v2 = self.value()
        return (neg, op, val, v1, v2)

    def value(self) -> Query | None:
        """A nested query, or None for any literal / column / list (values are not compared)."""
        if self.peek() == "(" and self.peek(1) == "select":
            self.i += 1
            sub = _Parser(self.toks, self.schema)
            sub.i = self.i
            q = sub.query()
            self.i = sub.i
            self.take(")")
            return q
        if self.accept("("):
            depth = 1
            while depth:
                tok = self.take()
                depth += {"(": 1, ")": -1}.get(tok, 0)
            return None
        tok = self.take()
        if tok in _CLAUSES or tok == ")":
            raise SQLParseError(f"expected a value, got {tok!r}")
        if tok == "-" and self.peek() is not None:
            self.take()
        elif tok not in ("null", "true", "false") and tok[0] != "'" and not _is_number(tok):
            self.i -= 1
            self.val_unit()  # a column (possibly with arithmetic); its identity is dropped like any value
        return None


def _is_number(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _rebuild(q: Query, schema: Schema | None, valid: set[str] | None = None) -> Query:
    """Drop DISTINCT and map foreign-key columns to their representative (the official ``DISABLE_DISTINCT`` + kmap).

    As in the official evaluator this rewrites the query and its INTERSECT / UNION / EXCEPT parts with the columns
    of the *outer* FROM tables; sub-queries inside conditions or FROM are compared as parsed.
    """
    if valid is None:
        valid = {t for kind, t in q.tables if kind == "table"}
    fk = schema.foreign_keys if schema is not None else {}

    def col(c: tuple | None) -> tuple | None:
        if c is None:
            return None
        cid = c[1]
        if cid in fk and cid.split(".", 1)[0] in valid:
            cid = fk[cid]
        return (c[0], cid, False)

    def val(v: tuple) -> tuple:
        return (v[0], col(v[1]), col(v[2]))

    def conds(cs: tuple) -> tuple:
        return tuple(c if isinstance(c, str) else (c[0], c[1], val(c[2]), c[3], c[4]) for c in cs)

    sub = lambda x: _rebuild(x, schema, valid) if x is not None else None  # noqa: E731
    return Query(
        select=tuple((a, val(v)) for a, v in q.select),
        tables=q.tables,
        join_conds=conds(q.join_conds),
        where=conds(q.where),
        group_by=tuple(col(c) for c in q.group_by),
        having=conds(q.having),
        order_by=(q.order_by[0], tuple(val(v) for v in q.order_by[1])) if q.order_by else None,
        limit=q.limit,
        intersect=sub(q.intersect),
        union=sub(q.union),
        except_=sub(q.except_),
    )


def parse_sql(sql: str, schema: Schema | None = None) -> Query:
    """Parse ``sql`` into Spider's clause structure (values and DISTINCT dropped, foreign keys mapped).

    Raises:
        SQLParseError: the text is not a SELECT query this grammar reads, or names a column the schema lacks.
    """
    toks = _tokenize(sql)
    if not toks:
        raise SQLParseError("empty query")
    p = _Parser(toks, schema)
    q = p.query()
    if p.i != len(toks):
        raise SQLParseError(f"unexpected {toks[p.i]!r} after the query")
    return _rebuild(q, schema)


# ---- matching ---------------------------------------------------------------------------------------------------


def _multiset_match(pred: Iterable[Any], gold: Iterable[Any]) -> bool:
    return Counter(pred) == Counter(gold)


def _keywords(q: Query) -> set[str]:
    kw = set()
    if q.where:
        kw.add("where")
    if q.group_by:
        kw.add("group")
    if q.having:
        kw.add("having")
    if q.order_by:
        kw.update(("order", q.order_by[0]))
    if q.limit:
        kw.add("limit")
    kw.update(name for name, sub in (("except", q.except_), ("union", q.union), ("intersect", q.intersect)) if sub)
    conds = (*q.join_conds, *q.where, *q.having)
    if "or" in conds:
        kw.add("or")
    units = [c for c in conds if not isinstance(c, str)]
    if any(c[0] for c in units):
        kw.add("not")
    if any(c[1] == "in" for c in units):
        kw.add("in")
    if any(c[1] == "like" for c in units):
        kw.add("like")
    return kw


def _conds(cs: tuple) -> list[tuple]:
    return [c for c in cs if not isinstance(c, str)]


def component_scores(pred: Query, gold: Query) -> dict[str, bool]:
    """Whether each of the ten Spider components matches (see the module docstring)."""
    res = {
        "select": _multiset_match(pred.select, gold.select),
        "select(no AGG)": _multiset_match((v for _, v in pred.select), (v for _, v in gold.select)),
        "where": _multiset_match(_conds(pred.where), _conds(gold.where)),
        "where(no OP)": _multiset_match((c[2] for c in _conds(pred.where)), (c[2] for c in _conds(gold.where))),
        "group(no Having)": _multiset_match(
            (c[1].rsplit(".", 1)[-1] for c in pred.group_by), (c[1].rsplit(".", 1)[-1] for c in gold.group_by)
        ),
    }
    if gold.group_by or pred.group_by:
        res["group"] = bool(gold.group_by and pred.group_by) and (
            [c[1] for c in pred.group_by] == [c[1] for c in gold.group_by] and pred.having == gold.having
        )
    else:
        res["group"] = True
    if gold.order_by or pred.order_by:
        res["order"] = bool(gold.order_by) and pred.order_by == gold.order_by and pred.limit == gold.limit
    else:
        res["order"] = True
    res["and/or"] = {c for c in pred.where if isinstance(c, str)} == {c for c in gold.where if isinstance(c, str)}
    res["IUEN"] = all(
        (p is None and g is None) or (p is not None and g is not None and _exact(p, g))
        for p, g in ((pred.intersect, gold.intersect), (pred.except_, gold.except_), (pred.union, gold.union))
    )
    res["keywords"] = _keywords(pred) == _keywords(gold)
    return res


def _exact(pred: Query, gold: Query) -> bool:
    if not all(component_scores(pred, gold).values()):
        return False
    return not gold.tables or _multiset_match(pred.tables, gold.tables)


def exact_set_match(pred: str, gold: str, schema: Schema | None = None, *, gold_fallback: bool = True) -> bool:
    """Spider's exact set match of two SQL strings; an unparsable prediction is simply wrong.

    Args:
        pred, gold: SQL text.
        schema: the database's :class:`Schema` (column attribution and foreign keys); optional.
        gold_fallback: when the *gold* query does not parse, compare normalised strings instead of raising.
    """
    try:
        g = parse_sql(gold, schema)
    except SQLParseError:
        if not gold_fallback:
            raise
        from readin.sql import exact_match

        return exact_match(pred, gold)
    try:
        p = parse_sql(pred, schema)
    except (SQLParseError, RecursionError):
        return False
    return _exact(p, g)


# ---- hardness ---------------------------------------------------------------------------------------------------


def _component1(q: Query) -> int:
    n = sum(bool(x) for x in (q.where, q.group_by, q.order_by, q.limit))
    n += max(len(q.tables) - 1, 0)
    conds = (*q.join_conds, *q.where, *q.having)
    n += sum(c == "or" for c in conds if isinstance(c, str))
    return n + sum(c[1] == "like" for c in conds if not isinstance(c, str))


def _others(q: Query) -> int:
    # aggregation count as the official code computes it: select aggregates, GROUP BY / ORDER BY column aggregates,
    # and -- its quirk -- WHERE items counted by their first field (the NOT flag) and every HAVING item other than a
    # plain condition (each and/or connective counts)
    agg = sum(bool(a) for a, _ in q.select)
    agg += sum(bool(c[0]) for c in _conds(q.where))
    agg += sum(bool(c[0]) for c in q.group_by)
    if q.order_by:
        agg += sum(bool(c[0]) for v in q.order_by[1] for c in v[1:] if c)
    agg += sum(bool(c[0]) if not isinstance(c, str) else True for c in q.having)
    n = int(agg > 1)
    n += len(q.select) > 1
    n += len(q.where) > 1
    n += len(q.group_by) > 1
    return n


def hardness(q: Query | str, schema: Schema | None = None) -> str:
    """Spider's difficulty level of a (gold) query: ``easy``, ``medium``, ``hard`` or ``extra``."""
    if isinstance(q, str):
        q = parse_sql(q, schema)
    c1, c2, other = _component1(q), len(q.nested()), _others(q)
    if c1 <= 1 and other == 0 and c2 == 0:
        return "easy"
    if (other <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and other < 2 and c2 == 0):
        return "medium"
    if (other > 2 and c1 <= 2 and c2 == 0) or (2 < c1 <= 3 and other <= 2 and c2 == 0) or (c1 <= 1 and other == 0 and c2 <= 1):
        return "hard"
    return "extra"


def score_pairs(preds: Sequence[str], golds: Sequence[str], schemas: Sequence[Schema | None] | None = None) -> dict[str, Any]:
    """Exact set match per hardness level and component accuracy over a list of (pred, gold) pairs."""
    levels = ("easy", "medium", "hard", "extra", "all")
    count = dict.fromkeys(levels, 0)
    exact = dict.fromkeys(levels, 0)
    comp = {c: 0 for c in COMPONENTS}
    for i, (p, g) in enumerate(zip(preds, golds, strict=True)):
        schema = schemas[i] if schemas is not None else None
        gq = parse_sql(g, schema)
        level = hardness(gq)
        try:
            pq = parse_sql(p, schema)
        except (SQLParseError, RecursionError):
            pq = None
        ok = pq is not None and _exact(pq, gq)
        for key in (level, "all"):
            count[key] += 1
            exact[key] += ok
        if pq is not None:
            for c, v in component_scores(pq, gq).items():
                comp[c] += v
    n = max(count["all"], 1)
    return {
        "count": count,
        "exact": {k: exact[k] / count[k] if count[k] else 0.0 for k in levels},
        "components": {c: v / n for c, v in comp.items()},
    }
