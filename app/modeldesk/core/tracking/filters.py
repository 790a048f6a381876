"""The run-search filter language and ``order_by`` terms, compiled to SQLite.

``metrics.val_auc > 0.9 and (params.max_depth = 8 or tags.owner LIKE 'an%')``
parses to a small AST and compiles to a boolean SQL expression over the
``runs`` table aliased ``r``. Every key and value travels as a ``?``
placeholder; user text never becomes SQL. Errors are ``FilterError`` with the
0-based position and text of the offending token, so faces can point at it.

Semantics (decided here, relied on by search_runs, the CLI and the GUI):
- metrics compare as numbers against the latest value; NaN (stored NULL)
  never matches any condition, and LIKE on a metric is an error.
- params/tags: a quoted value compares as text. A number literal compares
  numerically for < <= > >= (only stored values that look numeric, i.e. that
  Python's float() would read, can match) and for = / != / IN against the
  number's canonical text forms (``8`` matches '8' and '8.0').
- A run without the key never matches a condition on it, ``!=`` included.
- LIKE is case-sensitive (compiled to GLOB), ILIKE is not (ASCII);
  ``%`` and ``_`` are wildcards and ``\\`` makes the next character literal.
- status values are upper-cased; start_time/end_time take unix seconds or
  ISO times (naive means UTC); duration is end_time - start_time in seconds.
  A start_time/end_time number of at least ``MS_THRESHOLD`` (1e11: year 5138
  in seconds, March 1973 in milliseconds) can only be milliseconds, as MLflow
  writes them, and is read as such instead of matching nothing: the condition
  then compares the time rounded to the millisecond (as ``run.info`` has it).
- MLflow's system tags ``tags.mlflow.runName``, ``tags.mlflow.user`` and
  ``tags.mlflow.parentRunId`` are read as the attributes run_name, user and
  parent_run_id (ModelDesk keeps those as attributes, not tags).
- ``IS NULL`` / ``IS NOT NULL``: whether the run has the key (a metric whose
  latest value is NaN counts as missing); on attributes, whether the value is
  set (end_time and duration are NULL while a run is RUNNING).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import NamedTuple, Union

from ..errors import FilterError

PREFIXES = {"params": "params", "param": "params", "metrics": "metrics", "metric": "metrics",
            "tags": "tags", "tag": "tags", "attributes": "attributes",
            "attribute": "attributes", "attr": "attributes"}
ATTRIBUTES = ("status", "run_name", "run_id", "user", "start_time", "end_time", "duration")
_ATTR_ALIASES = {**{a: a for a in ATTRIBUTES}, "name": "run_name", "id": "run_id", "parent_run_id": "parent_run_id"}
# MLflow keeps these as system tags; here they are attributes, so its filters find the same runs.
_MLFLOW_TAGS = {"mlflow.runName": "run_name", "mlflow.user": "user", "mlflow.parentRunId": "parent_run_id"}
_ATTR_SQL = {"status": "r.status", "run_name": "r.name", "run_id": "r.id", "user": "r.user",
             "start_time": "r.start_time", "end_time": "r.end_time",
             "duration": "(r.end_time - r.start_time)",
             "parent_run_id": "(SELECT p.id FROM runs p WHERE p.rid = r.parent_rid)",
             # a start/end time compared in MLflow's milliseconds, at millisecond precision
             "start_time_ms": "ROUND(r.start_time * 1000)", "end_time_ms": "ROUND(r.end_time * 1000)"}
_NUMERIC_ATTRS = ("attributes.start_time", "attributes.end_time", "attributes.duration")
_TABLES = {"params": ("params", "p"), "tags": ("tags", "t"), "metrics": ("latest_metrics", "m")}
_KEYWORDS = {"AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL"}
MS_THRESHOLD = 1e11
"""start_time/end_time values this large are milliseconds (MLflow's unit), not seconds."""
_TIME_ATTRS = ("attributes.start_time", "attributes.end_time")
_UNKNOWN_KEY = ("unknown key '{}': use params.<key>, metrics.<key>, tags.<key> "
                "or attributes.<name>")
_UNKNOWN_ATTR = "unknown attribute '{}': use one of " + ", ".join(ATTRIBUTES)
_PLAIN_KEY = re.compile(r"[\w./:\-]+")
_INT64 = 2**63
# True when {v} is text Python's float() reads (from the characters 0-9 e E . + -):
# a mantissa with a digit and at most one dot, an optional exponent with digits.
_LOOKS_NUMERIC = " AND ".join(
    ["{v} GLOB '*[0-9]*'"]
    + [f"{{v}} NOT GLOB '{g}'" for g in (
        "*[^0-9eE.+-]*", "*[eE]*[eE]*", "*.*.*", "*[eE]*.*", "[eE]*", "*[^0-9.][eE]*",
        ".[eE]*", "*[^0-9].[eE]*", "*[0-9.+-][+-]*", "*[eE+-]")])


class _Tok(NamedTuple):
    kind: str  # NUM WORD IDENT STR OP ( ) , END
    text: str
    pos: int
    value: object = None


@dataclass(frozen=True)
class Value:
    """A literal: ``value`` is str, int or float (after normalisation)."""
    value: Union[str, int, float]
    text: str
    position: int


@dataclass(frozen=True)
class Condition:
    kind: str  # params | metrics | tags | attributes
    key: str
    op: str  # = != < <= > >= LIKE NOT LIKE ILIKE NOT ILIKE IN NOT IN IS NULL IS NOT NULL
    values: tuple  # of Value; one unless IN / NOT IN; none for IS [NOT] NULL
    position: int


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND | OR; an AND of no items is the empty filter (always true)
    items: tuple


Node = Union[Condition, BoolOp]


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: list


@dataclass(frozen=True)
class OrderTerm:
    kind: str
    key: str
    descending: bool


_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w./:\-])
  | (?P<word>[\w.+\-][\w./:\-]*)
  | (?P<op>==|!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])""", re.X)


_QUOTED = {q: re.compile(f"{q}((?:[^{q}]|{q}{q})*+){q}") for q in "'\"`"}  # '' escapes '


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    q = text[start]
    m = _QUOTED[q].match(text, start)
    if not m:
        what = "key" if q == "`" else "string"
        raise FilterError(f"unclosed {what}: add the closing {q}", text, start, text[start:])
    return m.group(1).replace(q + q, q), m.end()


def _tokenize(text: str) -> list[_Tok]:
    toks, i = [], 0
    while i < len(text):
        c = text[i]
        if c in "'\"`":
            value, end = _read_quoted(text, i)
            toks.append(_Tok("IDENT" if c == "`" else "STR", text[i:end], i,
                             (None, value) if c == "`" else value))
            i = end
            continue
        m = _TOKEN_RE.match(text, i)
        if not m:
            raise FilterError(f"unexpected character '{c}'", text, i, c)
        kind, end = m.lastgroup, m.end()
        if kind == "word" and text[end - 1] == "." and end < len(text) and text[end] in "`\"":
            key, qend = _read_quoted(text, end)  # metrics.`val auc` / metrics."val auc"
            toks.append(_Tok("IDENT", text[i:qend], i, (text[i:end - 1], key)))
            end = qend
        elif kind != "ws":
            tkind = {"num": "NUM", "word": "WORD", "op": "OP"}.get(kind, m.group())
            toks.append(_Tok(tkind, m.group(), i))
        i = end
    toks.append(_Tok("END", "", len(text)))
    return toks


def _desc(tok: _Tok) -> str:
    return "the end of the text" if tok.kind == "END" else f"'{tok.text}'"


def _number(text: str) -> Union[int, float]:
    if re.fullmatch(r"[-+]?\d+", text) and -_INT64 <= int(text) < _INT64:
        return int(text)
    return float(text)


class _Parser:
    """Recursive descent: or-list of and-lists of atoms; ``and`` binds tighter."""

    def __init__(self, text: str):
        self.text, self.toks, self.i = text, _tokenize(text), 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def next(self) -> _Tok:
        tok = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return tok

    def fail(self, message: str, at: Union[_Tok, Value]):
        pos = at.pos if isinstance(at, _Tok) else at.position
        raise FilterError(message, self.text, pos, at.text)

    @staticmethod
    def kw(tok: _Tok, *words: str) -> bool:
        return tok.kind == "WORD" and tok.text.upper() in words

    def filter(self) -> Node:
        if self.peek().kind == "END":
            return BoolOp("AND", ())
        node, tok = self.chain("OR"), self.peek()
        if tok.kind == ")":
            self.fail("unexpected ')': there is no '(' for it to close", tok)
        if tok.kind != "END":
            self.fail(f"expected 'and', 'or' or the end of the filter but found {_desc(tok)}", tok)
        return node

    def chain(self, word: str) -> Node:
        sub = (lambda: self.chain("AND")) if word == "OR" else self.atom
        items = [sub()]
        while self.kw(self.peek(), word):
            self.next()
            items.append(sub())
        return items[0] if len(items) == 1 else BoolOp(word, tuple(items))

    def atom(self) -> Node:
        if self.peek().kind != "(":
            return self.condition()
        opening = self.next()
        if self.peek().kind == ")":
            self.fail("empty parentheses: put a condition inside", self.peek())
        node, tok = self.chain("OR"), self.next()
        if tok.kind == "END":
            self.fail("unclosed parenthesis: this '(' has no matching ')'", opening)
        if tok.kind != ")":
            self.fail(f"expected 'and', 'or' or ')' but found {_desc(tok)}", tok)
        return node

    def key(self) -> tuple[str, str, _Tok]:
        tok = self.next()
        if tok.kind != "IDENT" and (tok.kind != "WORD" or tok.text.upper() in _KEYWORDS):
            self.fail("expected a key such as metrics.auc, params.max_depth or status "
                      f"but found {_desc(tok)}", tok)
        if tok.kind == "IDENT":
            prefix, key = tok.value
        else:
            prefix, dot, key = tok.text.partition(".")
            prefix, key = (prefix, key) if dot else (None, prefix)
        kind = "attributes" if prefix is None else PREFIXES.get(prefix.lower())
        if kind is None or (prefix is None and key.lower() not in _ATTR_ALIASES):
            self.fail(_UNKNOWN_KEY.format(key if prefix is None else f"{prefix}.{key}"), tok)
        if not key:
            self.fail(f"missing key after '{prefix}.'", tok)
        if kind == "attributes":
            key = _ATTR_ALIASES.get(key.lower()) or self.fail(_UNKNOWN_ATTR.format(key), tok)
        elif kind == "tags" and key in _MLFLOW_TAGS:
            kind, key = "attributes", _MLFLOW_TAGS[key]
        return kind, key, tok

    def value(self, after: str) -> Value:
        tok = self.next()
        if tok.kind in ("STR", "NUM"):
            return Value(tok.value if tok.kind == "STR" else _number(tok.text), tok.text, tok.pos)
        bare = tok.kind == "WORD" and tok.text.upper() not in _KEYWORDS
        hint = f": quote text values, e.g. '{tok.text}'" if bare else ""
        self.fail(f"expected a value after '{after}' but found {_desc(tok)}{hint}", tok)

    def condition(self) -> Condition:
        kind, key, key_tok = self.key()
        tok = op_tok = self.next()
        if tok.kind == "OP":
            op = {"==": "=", "<>": "!="}.get(tok.text, tok.text)
        elif self.kw(tok, "NOT"):
            tok = self.next()
            if not self.kw(tok, "LIKE", "ILIKE", "IN"):
                self.fail(f"expected LIKE, ILIKE or IN after 'NOT' but found {_desc(tok)}", tok)
            op = "NOT " + tok.text.upper()
        elif self.kw(tok, "LIKE", "ILIKE", "IN"):
            op = tok.text.upper()
        elif self.kw(tok, "IS"):
            return Condition(kind, key, self.null_test(), (), key_tok.pos)
        else:
            hint = (": quote keys with spaces in backticks, e.g. metrics.`val auc`"
                    if tok.kind == "WORD" and tok.text.upper() not in _KEYWORDS else "")
            self.fail(f"expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS NULL) after "
                      f"'{key_tok.text}' but found {_desc(tok)}{hint}", tok)
        values = self.in_list(op) if op.endswith("IN") else (self.value(tok.text),)
        return self.check(Condition(kind, key, op, values, key_tok.pos), op_tok)

    def null_test(self) -> str:
        """After ``IS``: ``NULL`` or ``NOT NULL``."""
        tok = self.next()
        negated = self.kw(tok, "NOT")
        if negated:
            tok = self.next()
        if not self.kw(tok, "NULL"):
            self.fail(f"expected NULL or NOT NULL after 'IS{' NOT' if negated else ''}' but found {_desc(tok)}",
                      tok)
        return "IS NOT NULL" if negated else "IS NULL"

    def in_list(self, op: str) -> tuple:
        opening = self.next()
        if opening.kind != "(":
            self.fail(f"expected '(' after '{op}' but found {_desc(opening)}", opening)
        if self.peek().kind == ")":
            self.fail("empty IN list: give at least one value, e.g. IN ('a', 'b')", self.peek())
        values, after = [], "("
        while True:
            values.append(self.value(after))
            tok, after = self.next(), ","
            if tok.kind == ")":
                return tuple(values)
            if tok.kind == "END":
                self.fail("unclosed parenthesis: the IN list opened here has no ')'", opening)
            if tok.kind != ",":
                self.fail(f"expected ',' or ')' in the IN list but found {_desc(tok)}", tok)

    def check(self, cond: Condition, op_tok: _Tok) -> Condition:
        """Type rules that depend on the key's kind, pointing at the culprit."""
        label = f"{cond.kind}.{cond.key}"
        numeric = cond.kind == "metrics" or label in _NUMERIC_ATTRS
        if "LIKE" in cond.op:
            if numeric:
                self.fail(f"{cond.op} does not apply to {label}: it is a number; use =, !=, "
                          "<, <=, >, >= or IN", op_tok)
            if not isinstance(cond.values[0].value, str):
                self.fail(f"{cond.op} needs a quoted pattern, e.g. '%{cond.values[0].text}%'",
                          cond.values[0])
        out = []
        for v in cond.values:
            if isinstance(v.value, str) and label.startswith(("metrics.", "attributes.duration")):
                unit = "a number" if cond.kind == "metrics" else "seconds"
                self.fail(f"{label} compares as {unit} but {v.text} is a string: write a "
                          "number, e.g. 0.9", v)
            if numeric and isinstance(v.value, str):
                v = replace(v, value=self.time(v, label))
            elif cond.kind == "attributes" and not numeric:
                text = v.value if isinstance(v.value, str) else v.text
                v = replace(v, value=text.upper() if cond.key == "status" else text)
            out.append(v)
        if label in _TIME_ATTRS and any(abs(v.value) >= MS_THRESHOLD for v in out):
            # milliseconds, as MLflow writes times: compare at millisecond precision, so that
            # start_time = run.info.start_time finds the run (stored times have finer digits)
            out = [v if abs(v.value) >= MS_THRESHOLD else replace(v, value=v.value * 1000.0) for v in out]
            return replace(cond, key=cond.key + "_ms", values=tuple(out))
        return replace(cond, values=tuple(out))

    def time(self, v: Value, label: str) -> float:
        if re.fullmatch(r"\s*[-+]?\d+(\.\d*)?\s*", v.value):  # quoted unix seconds
            return float(v.value)
        try:
            when = datetime.fromisoformat(v.value.strip())
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return when.timestamp()
        except (ValueError, OverflowError, OSError):
            self.fail(f"cannot read {v.text} as a time for {label}: use unix seconds or an "
                      "ISO time like '2026-11-01' or '2026-11-01T10:00:00'", v)

    def order_terms(self) -> list[OrderTerm]:
        terms = []
        while self.peek().kind != "END" or terms:
            kind, key, key_tok = self.key()
            descending = self.kw(self.peek(), "ASC", "DESC") and self.next().text.upper() == "DESC"
            terms.append(OrderTerm(kind, key, descending))
            tok = self.next()
            if tok.kind == "END":
                break
            if tok.kind != ",":
                self.fail(f"expected ASC, DESC, ',' or the end after '{key_tok.text}' but "
                          f"found {_desc(tok)}", tok)
        return terms


def parse_filter(text: str) -> Node:
    """Parse filter text into an AST, checking types, so every mistake is
    reported with its position before any SQL exists. Empty text is
    ``BoolOp('AND', ())``: no condition."""
    if not isinstance(text, str):
        raise FilterError(f"a filter must be text, not {type(text).__name__}")
    return _Parser(text).filter()


def _like_to_glob(pattern: str) -> str:
    """LIKE pattern -> GLOB pattern, for a case-sensitive LIKE."""
    def one(m: re.Match) -> str:
        c = m.group(1) if m.group(1) is not None else m.group(2)
        return {"%": "*", "_": "?"}.get(m.group(2), f"[{c}]" if c in "*?[" else c)
    return re.sub(r"\\(.)|([%_*?\[])", one, pattern, flags=re.S)


def _number_forms(v: Value) -> list[str]:
    """The texts a number is stored as when logged from Python: 8 -> '8', '8.0'."""
    n = v.value
    whole = n if isinstance(n, int) else int(n) if math.isfinite(n) and n.is_integer() else None
    forms = [v.text] + ([str(whole), f"{whole}.0"] if whole is not None else [])
    return list(dict.fromkeys(forms + ([] if isinstance(n, int) else [repr(n)])))


def _predicate(col: str, cond: Condition, out: list, mixed: bool) -> str:
    op, values = cond.op, cond.values
    if "LIKE" in op:
        pattern = values[0].value
        if "ILIKE" in op:
            sql = f"{col} LIKE ? ESCAPE '\\'"
        else:
            sql, pattern = f"{col} GLOB ?", _like_to_glob(pattern)
        out.append(pattern)
        return f"NOT ({sql})" if op.startswith("NOT") else sql
    if op.endswith("IN") or (mixed and op in ("=", "!=") and not isinstance(values[0].value, str)):
        items = []
        for v in values:
            items += _number_forms(v) if mixed and not isinstance(v.value, str) else [v.value]
        out.extend(items)
        negate = op.startswith("NOT") or op == "!="
        return f"{col} {'NOT IN' if negate else 'IN'} ({', '.join('?' * len(items))})"
    v = values[0].value
    out.append(v)
    if mixed and not isinstance(v, str):
        return f"({_LOOKS_NUMERIC.format(v=col)} AND CAST({col} AS REAL) {op} ?)"
    return f"{col} {op} ?"


def _compile(node: Node, out: list) -> str:
    if isinstance(node, BoolOp):
        if not node.items:
            return "1"
        return "(" + f" {node.op} ".join(_compile(item, out) for item in node.items) + ")"
    if node.op in ("IS NULL", "IS NOT NULL"):
        return _null_test(node, out)
    if node.kind == "attributes":
        return _predicate(_ATTR_SQL[node.key], node, out, mixed=False)
    table, a = _TABLES[node.kind]
    out.append(node.key)
    pred = _predicate(f"{a}.value", node, out, mixed=node.kind != "metrics")
    where = f"{a}.run_rid = r.rid AND {a}.key = ? AND {pred}"
    return f"EXISTS (SELECT 1 FROM {table} {a} WHERE {where})"


def _null_test(node: Condition, out: list) -> str:
    if node.kind == "attributes":
        return f"{_ATTR_SQL[node.key]} {node.op}"
    table, a = _TABLES[node.kind]
    out.append(node.key)
    has = f"EXISTS (SELECT 1 FROM {table} {a} WHERE {a}.run_rid = r.rid AND {a}.key = ? AND {a}.value IS NOT NULL)"
    return has if node.op == "IS NOT NULL" else f"NOT {has}"


def compile_filter(text: str | None) -> Compiled:
    """Compile filter text to a WHERE-ready boolean over ``runs r`` with ``?``
    placeholders only, so callers can splice it into any query safely."""
    if text is None or not text.strip():
        return Compiled("1", [])
    out: list = []
    return Compiled(_compile(parse_filter(text), out), out)


def referenced_keys(text: str | None) -> set[tuple[str, str]]:
    """The (kind, key) pairs a filter uses, e.g. for choosing columns to show."""
    found, stack = set(), [parse_filter(text)] if text and text.strip() else []
    while stack:
        node = stack.pop()
        if isinstance(node, BoolOp):
            stack.extend(node.items)
        else:
            found.add((node.kind, node.key.removesuffix("_ms") if node.kind == "attributes" else node.key))
    return found


def parse_order_by(items: list[str] | str | None) -> list[OrderTerm]:
    """Parse ``order_by`` items ("metrics.val_auc DESC", "start_time asc", or
    several comma-separated in one string); errors point into the bad item."""
    terms: list[OrderTerm] = []
    for item in [items] if isinstance(items, str) else items or []:
        if not isinstance(item, str):
            raise FilterError(f"order_by items must be text, not {type(item).__name__}")
        terms += _Parser(item).order_terms()
    return terms


def compile_order_by(items: list[str] | str | None) -> Compiled:
    """Compile order_by to an ORDER BY list body with missing values last.

    Each term first sorts runs lacking a value (missing key, NaN metric,
    unfinished run's end_time) last, whatever the direction. params and tags
    sort in two groups: values that look numeric first, by number (so '8'
    and '8.0' tie), then the others by text (binary collation). Ties end on
    ``r.start_time DESC, r.rid DESC`` so the order is total and stable.
    """
    parts, out = [], []
    for term in parse_order_by(items):
        d = " DESC" if term.descending else " ASC"
        table, a = _TABLES.get(term.kind, (None, None))
        where = f"FROM {table} {a} WHERE {a}.run_rid = r.rid AND {a}.key = ?"
        if term.kind in ("attributes", "metrics"):
            col = _ATTR_SQL.get(term.key) if a is None else f"(SELECT {a}.value {where})"
            parts += [f"{col} IS NULL", col + d]
            out += [] if a is None else [term.key] * 2
            continue
        numeric = _LOOKS_NUMERIC.format(v=a + ".value")
        num = f"(SELECT CAST({a}.value AS REAL) {where} AND {numeric})"
        text = f"(SELECT {a}.value {where} AND NOT ({numeric}))"
        parts += [f"(SELECT 1 {where}) IS NULL", f"{num} IS NULL", num + d, text + d]
        out += [term.key] * 4
    parts += ["r.start_time DESC", "r.rid DESC"]
    return Compiled(", ".join(parts), out)


def _quote_key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) else "`" + key.replace("`", "``") + "`"


def completions(prefix: str, keys: dict[str, list[str]]) -> list[str]:
    """Candidates for the word being typed at the end of ``prefix``, for the
    GUI filter bar: ``kind.key`` (backtick-quoted when needed), attribute
    names and ``attributes.<name>``; singular prefixes (metric.) also match."""
    prefix = prefix or ""
    end = prefix.rfind("`") if prefix.count("`") % 2 else len(prefix)  # inside `...`?
    m = re.search(r"[\w./:\-]*$", prefix[:end])
    word = prefix[m.start():]
    head, dot, rest = word.partition(".")
    if dot and head.lower() in PREFIXES:
        word = f"{PREFIXES[head.lower()]}.{rest}"
    candidates = list(ATTRIBUTES) + [f"attributes.{a}" for a in ATTRIBUTES]
    for kind in ("params", "metrics", "tags"):
        candidates += [f"{kind}.{_quote_key(k)}" for k in sorted(set(keys.get(kind) or ()))]
    low = word.replace("`", "").lower()
    return list(dict.fromkeys(c for c in candidates
                              if c.replace("`", "").lower().startswith(low)))
