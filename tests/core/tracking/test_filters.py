"""The filter language and order_by, checked by running the SQL on real rows."""

from __future__ import annotations

import operator
import sqlite3
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeldesk.core.errors import FilterError, UsageError
from modeldesk.core.tracking.filters import (
    MS_THRESHOLD,
    BoolOp,
    Compiled,
    Condition,
    OrderTerm,
    compile_filter,
    compile_order_by,
    completions,
    parse_filter,
    parse_order_by,
    referenced_keys,
)

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()
NAN = None  # SQLite stores NaN as NULL
RUNS = [  # rid, id, name, status, user, start_time, end_time
    (1, "a1", "rf-200", "FINISHED", "ana", T0, T0 + 100),
    (2, "b2", "rf-300", "FINISHED", "bob", T0 + 3600, T0 + 3650),
    (3, "c3", "gbm", "FAILED", "ana", T0 - 86400, T0 - 86390),
    (4, "d4", "lr", "RUNNING", "cid", T0 + 7200, None),
    (5, "e5", "Gbm-big", "KILLED", "bob", T0 + 10, T0 + 510),
]
PARAMS = {
    1: {"max_depth": "8", "n_estimators": "200", "lr": "0.1", "criterion": "gini"},
    2: {"max_depth": "8.0", "n_estimators": "300", "lr": "1e-2", "criterion": "entropy"},
    3: {"max_depth": "12", "lr": "auto", "criterion": "Gini"},
    4: {"max_depth": "None"},
    5: {"max_depth": "3", "n_estimators": "1000", "lr": ".5"},
}
TAGS = {
    1: {"owner": "ana", "team": "fraud detection", "model type": "rf"},
    2: {"owner": "bob", "note": "50% off_[x]"},
    3: {"owner": "ana"},
    5: {"owner": "Bob"},
}
METRICS = {
    1: {"val_auc": 0.91, "loss": 0.2, "val auc": 0.91},
    2: {"val_auc": 0.95, "loss": 0.1},
    3: {"val_auc": NAN, "loss": 0.5},
    4: {"loss": 0.3},
    5: {"val_auc": 0.85, "loss": 0.15},
}
ALL = {"a1", "b2", "c3", "d4", "e5"}


def make_db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(
        """
        CREATE TABLE runs (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
            status TEXT NOT NULL, user TEXT NOT NULL, start_time REAL NOT NULL, end_time REAL);
        CREATE TABLE params (run_rid INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
            PRIMARY KEY (run_rid, key)) WITHOUT ROWID;
        CREATE TABLE tags (run_rid INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
            PRIMARY KEY (run_rid, key)) WITHOUT ROWID;
        CREATE TABLE latest_metrics (run_rid INTEGER NOT NULL, key TEXT NOT NULL, value REAL,
            step INTEGER NOT NULL, timestamp REAL NOT NULL,
            PRIMARY KEY (run_rid, key)) WITHOUT ROWID;
        """
    )
    db.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)", RUNS)
    for table, data in (("params", PARAMS), ("tags", TAGS)):
        db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)",
                       [(rid, k, v) for rid, kv in data.items() for k, v in kv.items()])
    db.executemany("INSERT INTO latest_metrics VALUES (?, ?, ?, 0, 0)",
                   [(rid, k, v) for rid, kv in METRICS.items() for k, v in kv.items()])
    return db


DB = make_db()


def matches(text, db=DB) -> set[str]:
    c = compile_filter(text)
    return {row[0] for row in db.execute(f"SELECT r.id FROM runs r WHERE {c.sql}", c.params)}


def ordered(order_by, db=DB) -> list[str]:
    c = compile_order_by(order_by)
    return [row[0] for row in db.execute(f"SELECT r.id FROM runs r ORDER BY {c.sql}", c.params)]


@pytest.mark.parametrize("text, expected", [
    ("", ALL), ("   \n", ALL), (None, ALL),
    ("metrics.val_auc > 0.9", {"a1", "b2"}),
    ("metrics.val_auc >= 0.91", {"a1", "b2"}),
    ("metrics.val_auc < 0.9", {"e5"}),  # NaN (c3) and missing (d4) never match
    ("metrics.val_auc != 0.91", {"b2", "e5"}),
    ("metrics.val_auc = 0.91", {"a1"}),
    ("metrics.val_auc == 0.91", {"a1"}),
    ("metric.loss <= 0.15", {"b2", "e5"}),
    ("metrics.loss>-1e3", ALL),
    ("metrics.`val auc` > 0.5", {"a1"}),
    ('metrics."val auc" > 0.5', {"a1"}),
    ("metrics.loss IN (0.1, 0.2)", {"a1", "b2"}),
    ("metrics.loss NOT IN (0.1, 0.2)", {"c3", "d4", "e5"}),
    ("params.max_depth = 8", {"a1", "b2"}),  # '8' and '8.0'
    ("params.max_depth = '8'", {"a1"}),
    ("params.max_depth != 8", {"c3", "d4", "e5"}),
    ("params.max_depth != '8'", {"b2", "c3", "d4", "e5"}),
    ("params.max_depth > 5", {"a1", "b2", "c3"}),  # 'None' does not look numeric
    ("params.max_depth < 10", {"a1", "b2", "e5"}),
    ("params.max_depth > '5'", {"a1", "b2", "d4"}),  # text comparison
    ("params.lr < 0.2", {"a1", "b2"}),
    ("params.lr >= 0.5", {"e5"}),
    ("params.n_estimators IN (200, 300)", {"a1", "b2"}),
    ("params.n_estimators NOT IN (200)", {"b2", "e5"}),  # runs without the key never match
    ("params.criterion IN ('gini', 'entropy')", {"a1", "b2"}),
    ("params.criterion LIKE 'gi%'", {"a1"}),  # LIKE is case-sensitive
    ("params.criterion ILIKE 'gi%'", {"a1", "c3"}),
    ("params.criterion NOT LIKE 'gi%'", {"b2", "c3"}),
    ("params.criterion NOT ILIKE 'GI%'", {"b2"}),
    ("param.criterion like 'g_n_'", {"a1"}),
    ("tags.owner = 'ana'", {"a1", "c3"}),
    ("tags.owner != 'ana'", {"b2", "e5"}),
    ("tags.owner ILIKE 'bob'", {"b2", "e5"}),
    ("tags.`model type` = 'rf'", {"a1"}),
    ("tags.team LIKE '%detection'", {"a1"}),
    ("tags.note LIKE '50\\%%'", {"b2"}),
    ("tags.note LIKE '50\\_%'", set()),  # escaped _ is a literal underscore
    ("tags.note LIKE '%off\\_[x]'", {"b2"}),
    ("tags.note ILIKE '%OFF_[X]'", {"b2"}),
    ("tags.note LIKE '%[x]'", {"b2"}),  # [ is literal, not a GLOB class
    ("tag.owner = \"ana\"", {"a1", "c3"}),
    ("status = 'finished'", {"a1", "b2"}),
    ("attributes.status != 'FINISHED'", {"c3", "d4", "e5"}),
    ("attributes.status IN ('failed', 'Killed')", {"c3", "e5"}),
    ("status LIKE 'fin%'", {"a1", "b2"}),
    ("attributes.run_name = 'rf-200'", {"a1"}),
    ("attr.name LIKE 'rf-%'", {"a1", "b2"}),
    ("run_name ILIKE 'gbm%'", {"c3", "e5"}),
    ("run_name LIKE 'gbm%'", {"c3"}),
    ("attributes.run_id = 'b2'", {"b2"}),
    ("id IN ('a1', 'c3')", {"a1", "c3"}),
    ("user = 'ana'", {"a1", "c3"}),
    ("start_time >= '2026-11-01'", {"a1", "b2", "d4", "e5"}),
    ("start_time < '2026-11-01T00:00:00Z'", {"c3"}),
    (f"start_time > {T0:.0f}", {"b2", "d4", "e5"}),
    ("start_time >= '2026-11-01T02:00:00+01:00'", {"b2", "d4"}),
    ("attributes.start_time = '2026-11-01T01:00:00'", {"b2"}),
    ("end_time > 0", ALL - {"d4"}),
    (f"start_time > '{T0:.0f}'", {"b2", "d4", "e5"}),  # quoted unix seconds
    ("tags.start_time = 'x' or params.duration LIKE '%'", set()),  # kinds, not attributes
    ("duration > 60", {"a1", "e5"}),
    ("attributes.duration <= 50", {"b2", "c3"}),
    ("metrics.val_auc > 0.9 or status = 'FAILED' and user = 'bob'", {"a1", "b2"}),
    ("(metrics.val_auc > 0.9 or status = 'FAILED') and user = 'ana'", {"a1", "c3"}),
    ("metrics.loss > 0 AND (tags.owner = 'ana' OR tags.owner = 'bob')", {"a1", "b2", "c3"}),
    ("((metrics.loss < 0.3))", {"a1", "b2", "e5"}),
    ("metrics.loss < 0.3 AnD params.max_depth iN (3)", {"e5"}),
    ("metrics.val_auc > 0.9 and params.max_depth = '8'", {"a1"}),  # DESIGN.md's example
])
def test_filter_selects_the_right_runs(text, expected):
    assert matches(text) == expected


def test_empty_filter_is_true_and_ast_shapes():
    assert compile_filter("") == Compiled("1", [])
    assert parse_filter("  ") == BoolOp("AND", ())
    node = parse_filter("metrics.a > 1 or params.b = 'x' and tags.c != 'y'")
    assert isinstance(node, BoolOp) and node.op == "OR"
    assert isinstance(node.items[1], BoolOp) and node.items[1].op == "AND"
    cond = node.items[0]
    assert isinstance(cond, Condition) and (cond.kind, cond.key, cond.op) == ("metrics", "a", ">")
    assert cond.values[0].value == 1


def test_user_text_never_reaches_the_sql():
    text = "params.`x'); DROP TABLE runs; --` = 'a''); DROP TABLE runs; --'"
    c = compile_filter(text)
    assert "DROP" not in c.sql and c.sql.count("?") == len(c.params)
    assert c.params == ["x'); DROP TABLE runs; --", "a'); DROP TABLE runs; --"]
    assert matches(text) == set()
    assert DB.execute("SELECT count(*) FROM runs").fetchone() == (5,)


def test_doubled_quotes_escape_in_strings_and_keys():
    db = make_db()
    db.execute("INSERT INTO tags VALUES (4, 'it''s `odd`', 'O''Brien \"x\"')")
    assert matches("tags.`it's ``odd``` = 'O''Brien \"x\"'", db) == {"d4"}
    assert matches('tags."it\'s `odd`" = "O\'Brien ""x"""', db) == {"d4"}


ERRORS = [
    ("metrics.auc >>> 1", "expected a value after '>' but found '>'", 13, ">"),
    ("foo.bar > 1", "unknown key 'foo.bar': use params.<key>, metrics.<key>, tags.<key> "
     "or attributes.<name>", 0, "foo.bar"),
    ("status = 'a' and bogus = 'b'", "unknown key 'bogus'", 17, "bogus"),
    ("attributes.colour = 1", "unknown attribute 'colour': use one of status, run_name", 0,
     "attributes.colour"),
    ("metrics.auc 1", "expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS NULL) after "
     "'metrics.auc' but found '1'", 12, "1"),
    ("metrics.val auc > 1", "but found 'auc': quote keys with spaces in backticks", 12, "auc"),
    ("metrics.auc", "expected an operator", 11, ""),
    ("metrics.auc >", "expected a value after '>' but found the end of the text", 13, ""),
    ("(metrics.auc > 1", "unclosed parenthesis: this '(' has no matching ')'", 0, "("),
    ("((metrics.auc > 1) and status = 'x'", "unclosed parenthesis", 0, "("),
    ("(metrics.auc > 1 status = 'x')", "expected 'and', 'or' or ')' but found 'status'", 17,
     "status"),
    ("metrics.auc > 1)", "unexpected ')'", 15, ")"),
    ("params.x = 'abc", "unclosed string", 11, "'abc"),
    ("metrics.`val auc > 1", "unclosed key", 8, "`val auc > 1"),
    ("metrics.auc > 1 params.x = 2", "expected 'and', 'or' or the end of the filter but "
     "found 'params.x'", 16, "params.x"),
    ("metrics.auc IN ()", "empty IN list", 16, ")"),
    ("metrics.auc IN (1, 2", "unclosed parenthesis", 15, "("),
    ("metrics.auc IN 1", "expected '(' after 'IN' but found '1'", 15, "1"),
    ("metrics.auc IN (1 2)", "expected ',' or ')' in the IN list but found '2'", 18, "2"),
    ("metrics.auc IN (1,)", "expected a value after ',' but found ')'", 18, ")"),
    ("status = FINISHED", "expected a value after '=' but found 'FINISHED': quote text values",
     9, "FINISHED"),
    ("metrics.auc > 'high'", "metrics.auc compares as a number but 'high' is a string", 14,
     "'high'"),
    ("metrics.auc IN (1, 'x')", "metrics.auc compares as a number but 'x'", 19, "'x'"),
    ("metrics.auc LIKE '%1'", "LIKE does not apply to metrics.auc", 12, "LIKE"),
    ("metrics.auc NOT LIKE '%1'", "NOT LIKE does not apply to metrics.auc", 12, "NOT"),
    ("duration ILIKE '1%'", "ILIKE does not apply to attributes.duration", 9, "ILIKE"),
    ("params.x LIKE 5", "LIKE needs a quoted pattern", 14, "5"),
    ("start_time > 'yesterday'", "cannot read 'yesterday' as a time for attributes.start_time",
     13, "'yesterday'"),
    ("duration > '5'", "attributes.duration compares as seconds", 11, "'5'"),
    ("metrics. > 1", "missing key after 'metrics.'", 0, "metrics."),
    ("metrics.auc NOT = 1", "expected LIKE, ILIKE or IN after 'NOT' but found '='", 16, "="),
    ("and metrics.a > 1", "expected a key such as metrics.auc", 0, "and"),
    ("metrics.a > 1 and", "expected a key such as metrics.auc, params.max_depth or status but "
     "found the end of the text", 17, ""),
    ("metrics.a > 1 or or", "expected a key", 17, "or"),
    ("metrics.a > and", "expected a value after '>' but found 'and'", 12, "and"),
    ("()", "empty parentheses", 1, ")"),
    ("metrics.a ! 1", "unexpected character '!'", 10, "!"),
    ("metrics.a > 1 & params.b = 2", "unexpected character '&'", 14, "&"),
    ("1 > metrics.a", "expected a key", 0, "1"),
]


@pytest.mark.parametrize("text, message, position, token", ERRORS)
def test_errors_say_what_and_point_at_the_token(text, message, position, token):
    with pytest.raises(FilterError) as info:
        compile_filter(text)
    err = info.value
    assert message in err.reason
    assert (err.position, err.token) == (position, token)
    assert text[position:position + len(token)] == token
    assert isinstance(err, UsageError) and err.text == text
    lines = str(err).splitlines()
    assert lines[1] == "  " + text and lines[2] == "  " + " " * position + "^" * max(1, len(token))


def test_non_text_filter_is_a_filter_error():
    with pytest.raises(FilterError, match="must be text"):
        parse_filter(42)


def test_referenced_keys():
    text = ("metrics.a > 1 and (params.b = 2 or tags.`c d` = 'x') "
            "and status = 'X' and name = 'y' and metrics.a < 5")
    assert referenced_keys(text) == {("metrics", "a"), ("params", "b"), ("tags", "c d"),
                                     ("attributes", "status"), ("attributes", "run_name")}
    assert referenced_keys("") == set() and referenced_keys(None) == set()


# ---- order_by ---------------------------------------------------------------

def test_default_order_is_newest_first():
    assert compile_order_by(None) == Compiled("r.start_time DESC, r.rid DESC", [])
    assert compile_order_by([]).sql == "r.start_time DESC, r.rid DESC"
    assert ordered(None) == ["d4", "b2", "e5", "a1", "c3"]


@pytest.mark.parametrize("order_by, expected", [
    (["metrics.val_auc DESC"], ["b2", "a1", "e5", "d4", "c3"]),  # NaN and missing last
    (["metrics.val_auc"], ["e5", "a1", "b2", "d4", "c3"]),
    ("metrics.`val auc` desc", ["a1", "d4", "b2", "e5", "c3"]),
    (["params.max_depth"], ["e5", "b2", "a1", "c3", "d4"]),  # numbers first, then text
    (["params.max_depth DESC"], ["c3", "b2", "a1", "e5", "d4"]),
    (["params.lr"], ["b2", "a1", "e5", "c3", "d4"]),
    (["params.lr DESC"], ["e5", "a1", "b2", "c3", "d4"]),
    (["tags.owner DESC"], ["b2", "a1", "c3", "e5", "d4"]),
    (["end_time"], ["c3", "a1", "e5", "b2", "d4"]),
    (["end_time DESC"], ["b2", "e5", "a1", "c3", "d4"]),
    (["attributes.duration desc"], ["e5", "a1", "b2", "c3", "d4"]),
    (["attributes.run_name"], ["e5", "c3", "d4", "a1", "b2"]),
    (["start_time asc"], ["c3", "a1", "e5", "b2", "d4"]),
    (["status", "metrics.loss DESC"], ["c3", "a1", "b2", "e5", "d4"]),
    ("status, metrics.loss desc", ["c3", "a1", "b2", "e5", "d4"]),
    (["user DESC", "run_id"], ["d4", "b2", "e5", "a1", "c3"]),
    (["", "  "], ["d4", "b2", "e5", "a1", "c3"]),
])
def test_order_by_on_real_rows(order_by, expected):
    assert ordered(order_by) == expected


def test_order_by_ties_fall_back_to_start_time_then_rid():
    db = make_db()
    db.execute("UPDATE runs SET start_time = 0")
    assert ordered(["params.max_depth"], db) == ["e5", "b2", "a1", "c3", "d4"]
    assert ordered(None, db) == ["e5", "d4", "c3", "b2", "a1"]


def test_parse_order_by_terms():
    assert parse_order_by(["metrics.`val auc` desc", "name", "attr.id ASC", "param.x"]) == [
        OrderTerm("metrics", "val auc", True), OrderTerm("attributes", "run_name", False),
        OrderTerm("attributes", "run_id", False), OrderTerm("params", "x", False)]
    assert parse_order_by(None) == [] and parse_order_by("") == []
    c = compile_order_by(["metrics.a DESC"])
    assert c.params == ["a", "a"] and "IS NULL" in c.sql and c.sql.endswith("r.rid DESC")


@pytest.mark.parametrize("item, message, position, token", [
    ("metrics.a DESC x", "expected ASC, DESC, ',' or the end after 'metrics.a' but found 'x'",
     15, "x"),
    ("foo.b", "unknown key 'foo.b'", 0, "foo.b"),
    ("metrics.a,", "expected a key", 10, ""),
    ("metrics.a > 1", "expected ASC, DESC", 10, ">"),
    ("attributes.size", "unknown attribute 'size'", 0, "attributes.size"),
])
def test_order_by_errors(item, message, position, token):
    with pytest.raises(FilterError) as info:
        parse_order_by(["start_time", item])
    assert message in info.value.reason
    assert (info.value.position, info.value.token, info.value.text) == (position, token, item)


def test_order_by_rejects_non_text_items():
    with pytest.raises(FilterError, match="must be text"):
        parse_order_by([3])


# ---- completions ------------------------------------------------------------

KEYS = {"params": ["max_depth", "lr"], "metrics": ["val_auc", "val auc", "loss"],
        "tags": ["owner"]}


def test_completions():
    assert completions("metrics.va", KEYS) == ["metrics.`val auc`", "metrics.val_auc"]
    assert completions("x > 1 and metric.`val a", KEYS) == ["metrics.`val auc`"]
    assert completions("(st", KEYS) == ["status", "start_time"]
    assert completions("params.", KEYS) == ["params.lr", "params.max_depth"]
    assert completions("tags.owner = 'a' or attr", KEYS) == [
        f"attributes.{a}" for a in ("status", "run_name", "run_id", "user", "start_time",
                                    "end_time", "duration")]
    assert "metrics.loss" in completions("", KEYS) and "duration" in completions("", {})
    assert completions("zzz", KEYS) == []


# ---- properties -------------------------------------------------------------

FRAGMENTS = ["metrics.auc", "params.x", "tags.`a b`", "status", "attributes.start_time",
             "foo.bar", "duration", "=", "!=", "<", ">=", "==", "LIKE", "NOT", "IN", "ILIKE",
             "and", "or", "(", ")", ",", "'x'", "'2026-11-01'", "1", "-2.5e3", "\"q\"", "'",
             "`", "bare", ".", "metrics."]


def _only_filter_errors(text):
    try:
        c = compile_filter(text)
    except FilterError:
        return
    DB.execute(f"SELECT count(*) FROM runs r WHERE {c.sql}", c.params).fetchall()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_random_text_only_raises_filter_error(text):
    _only_filter_errors(text)
    try:
        c = compile_order_by([text])
    except FilterError:
        return
    DB.execute(f"SELECT r.id FROM runs r ORDER BY {c.sql}", c.params).fetchall()


@settings(max_examples=400)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(" ".join))
def test_random_token_soup_only_raises_filter_error(text):
    _only_filter_errors(text)


def _quote(s: str, q: str = "'") -> str:
    return q + s.replace(q, q + q) + q


keys = st.one_of(
    st.from_regex(r"[A-Za-z_][\w./:-]{0,8}", fullmatch=True),
    st.text(min_size=1, max_size=8).map(lambda k: _quote(k, "`")),
    st.text(min_size=1, max_size=8).map(lambda k: _quote(k, '"')),
)
numbers = st.one_of(st.integers(-10**20, 10**20).map(str),
                    st.floats(allow_nan=False, allow_infinity=False).map(repr))
strings = st.one_of(st.text(max_size=10).map(_quote),
                    st.text(max_size=10).map(lambda s: _quote(s, '"')))
times = st.one_of(numbers, st.datetimes(min_value=datetime(1970, 1, 2),
                                        max_value=datetime(2100, 1, 1)).map(
    lambda d: _quote(d.isoformat())))
cmp_ops = st.sampled_from(["=", "==", "!=", "<", "<=", ">", ">="])
like_ops = st.sampled_from(["LIKE", "not like", "ILIKE", "NOT ILIKE"])


def _in(values):
    return st.tuples(st.sampled_from(["IN", "not in"]), st.lists(values, min_size=1, max_size=4)
                     ).map(lambda t: f"{t[0]} ({', '.join(t[1])})")


def _cond(prefix, ops_and_values):
    return st.tuples(prefix, ops_and_values).map(lambda t: f"{t[0]} {t[1]}")


pair = lambda ops, values: st.tuples(ops, values).map(lambda t: f"{t[0]} {t[1]}")  # noqa: E731
conditions = st.one_of(
    _cond(st.sampled_from(["metrics", "metric", "METRICS"]).flatmap(
        lambda p: keys.map(lambda k: f"{p}.{k}")), pair(cmp_ops, numbers) | _in(numbers)),
    _cond(st.sampled_from(["params", "tags", "param", "tag"]).flatmap(
        lambda p: keys.map(lambda k: f"{p}.{k}")),
        pair(cmp_ops, numbers | strings) | pair(like_ops, strings) | _in(numbers | strings)),
    _cond(st.sampled_from(["status", "attributes.run_name", "name", "attr.id", "user"]),
          pair(cmp_ops, strings | numbers) | pair(like_ops, strings) | _in(strings)),
    _cond(st.sampled_from(["start_time", "attributes.end_time"]), pair(cmp_ops, times)
          | _in(times)),
    _cond(st.just("duration"), pair(cmp_ops, numbers) | _in(numbers)),
)
filters = st.recursive(
    conditions,
    lambda inner: st.one_of(
        inner.map(lambda f: f"({f})"),
        st.tuples(inner, st.sampled_from([" and ", " OR ", " And ", " or "]), inner).map("".join)),
    max_leaves=8,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(filters)
def test_valid_grammar_compiles_and_runs(text):
    c = compile_filter(text)
    assert c.sql.count("?") == len(c.params)
    DB.execute(f"SELECT r.id FROM runs r WHERE {c.sql}", c.params).fetchall()
    assert referenced_keys(text)


# A reference evaluator: generated trees are rendered to text and evaluated in
# Python; the SQL must select exactly the same runs (precedence included).
OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}
ref_leaves = st.one_of(
    st.tuples(st.just("metrics"), st.sampled_from(["val_auc", "loss", "nope"]),
              st.sampled_from(list(OPS)), st.sampled_from([0.1, 0.15, 0.2, 0.91, 0.5, -1])),
    st.tuples(st.just("params"), st.sampled_from(["max_depth", "lr", "n_estimators", "nope"]),
              st.sampled_from(list(OPS)), st.sampled_from([3, 8, 12, 200, 0.1, 0.5])),
    st.tuples(st.just("params"), st.sampled_from(["max_depth", "criterion"]),
              st.sampled_from(["=", "!="]), st.sampled_from(["8", "8.0", "gini", "None"])),
    st.tuples(st.just("tags"), st.sampled_from(["owner", "model type"]),
              st.sampled_from(["=", "!="]), st.sampled_from(["ana", "bob", "rf"])),
    st.tuples(st.just("status"), st.just(""), st.sampled_from(["=", "!="]),
              st.sampled_from(["finished", "FAILED", "Running"])),
    st.tuples(st.just("duration"), st.just(""), st.sampled_from(list(OPS)),
              st.sampled_from([10, 50, 100, 500])),
)
ref_trees = st.recursive(
    ref_leaves,
    lambda inner: st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=2,
                                                                     max_size=3), st.booleans()),
    max_leaves=10,
)


def _render(node, parent=None) -> str:
    if len(node) == 4:
        kind, key, op, value = node
        value = _quote(value) if isinstance(value, str) else repr(value)
        name = {"status": "status", "duration": "attributes.duration"}.get(
            kind, f"{kind}.`{key}`")
        return f"{name} {op} {value}"
    op, items, paren = node
    text = f" {op} ".join(_render(item, op) for item in items)
    return f"({text})" if paren or (parent == "and" and op == "or") else text


def _eval(node, rid) -> bool:
    if len(node) == 3:
        results = [_eval(item, rid) for item in node[1]]
        return all(results) if node[0] == "and" else any(results)
    kind, key, op, value = node
    if kind == "status":
        return OPS[op](RUNS[rid - 1][3], value.upper())
    if kind == "duration":
        end, start = RUNS[rid - 1][6], RUNS[rid - 1][5]
        return end is not None and OPS[op](end - start, value)
    stored = {"metrics": METRICS, "params": PARAMS, "tags": TAGS}[kind].get(rid, {}).get(key)
    if stored is None:
        return False
    if kind == "metrics" or isinstance(value, str):
        return OPS[op](stored, value)
    if op in ("=", "!="):
        forms = {str(value), repr(value)} | ({f"{value}.0"} if isinstance(value, int) else set())
        return (stored in forms) == (op == "=")
    try:
        return OPS[op](float(stored), value)
    except ValueError:
        return False


@settings(max_examples=300)
@given(ref_trees)
def test_sql_agrees_with_a_python_reference(tree):
    text = _render(tree)
    expected = {RUNS[rid - 1][1] for rid in range(1, 6) if _eval(tree, rid)}
    assert matches(text) == expected, text


NUM_DB = make_db()


@settings(max_examples=400)
@given(st.text(alphabet="0123456789eE.+-", max_size=8))
def test_looks_numeric_agrees_with_python_float(value):
    NUM_DB.execute("DELETE FROM params")
    NUM_DB.execute("INSERT INTO params VALUES (1, 'v', ?)", (value,))
    try:
        float(value)
        numeric = True
    except ValueError:
        numeric = False
    assert (matches("params.v >= -1e308 or params.v <= 1e308", NUM_DB) == {"a1"}) == numeric


# -- IS NULL / IS NOT NULL and millisecond times (issue 13, item 2) ------------------


@pytest.mark.parametrize("text, expected", [
    ("params.n_estimators IS NULL", {"c3", "d4"}),
    ("params.n_estimators IS NOT NULL", {"a1", "b2", "e5"}),
    ("params.n_estimators is not null", {"a1", "b2", "e5"}),
    ("tags.note IS NULL", ALL - {"b2"}),
    ("tags.`model type` IS NOT NULL", {"a1"}),
    ("metrics.val_auc IS NULL", {"c3", "d4"}),      # NaN counts as missing, like a run without it
    ("metrics.val_auc IS NOT NULL", {"a1", "b2", "e5"}),
    ("attributes.end_time IS NULL", {"d4"}),        # still RUNNING
    ("end_time IS NOT NULL", ALL - {"d4"}),
    ("duration IS NULL", {"d4"}),
    ("run_name IS NULL", set()),
    ("params.n_estimators IS NULL and status = 'FAILED'", {"c3"}),
    ("params.n_estimators IS NOT NULL or metrics.loss = 0.3", {"a1", "b2", "d4", "e5"}),
])
def test_is_null_selects_the_right_runs(text, expected):
    assert matches(text) == expected


@pytest.mark.parametrize("text, message, token", [
    ("params.a IS 5", "expected NULL or NOT NULL after 'IS' but found '5'", "5"),
    ("params.a IS NOT", "expected NULL or NOT NULL after 'IS NOT' but found the end of the text", ""),
    ("params.a IS NOT 'x'", "expected NULL or NOT NULL after 'IS NOT' but found ''x''", "'x'"),
    ("params.a = NULL", "expected a value after '=' but found 'NULL'", "NULL"),
])
def test_bad_null_tests_point_at_the_token(text, message, token):
    with pytest.raises(FilterError) as err:
        parse_filter(text)
    assert err.value.reason == message
    assert err.value.token == token
    assert err.value.position == (text.rindex(token) if token else len(text))


def test_millisecond_times_are_read_as_milliseconds():
    # MLflow writes times in ms: 1.7e12 would be year ~55,000 in seconds and match nothing.
    ms = int(T0 * 1000)
    assert matches(f"start_time > {ms}") == matches(f"start_time > {T0:.0f}") == {"b2", "d4", "e5"}
    assert matches(f"attributes.start_time >= '{ms + 3_600_000}'") == {"b2", "d4"}
    assert matches(f"end_time <= {ms + 100_000}") == {"a1", "c3"}
    assert matches(f"start_time IN ({ms + 3_600_000}, {T0 + 7200:.0f})") == {"b2", "d4"}
    # seconds are still seconds, and the threshold is far from any real time in seconds
    assert matches(f"start_time > {T0 - 1:.0f}") == {"a1", "b2", "d4", "e5"}
    assert T0 < MS_THRESHOLD / 10 < MS_THRESHOLD <= T0 * 1000 / 10


def test_duration_is_not_taken_for_milliseconds():
    # duration is seconds in ModelDesk (MLflow has none): a big number stays a big number
    assert matches(f"duration > {int(MS_THRESHOLD)}") == set()
