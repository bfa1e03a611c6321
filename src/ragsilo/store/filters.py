"""Safe Milvus filter expressions from ``field=value`` pairs and from raw expressions.

Values are always emitted as literals (strings quoted and escaped, numbers
checked), so a value such as ``x" or 1==1 or "`` stays one string and can never
widen the filter. Field names are checked against the schema's scalar fields;
``metadata.<key>`` reaches into the JSON metadata field.

A raw expression (``--filter``, the ``filter`` of a request) is never pasted
into a larger one as text. It is tokenised and parsed, by :func:`parse_expression`,
into one whole boolean expression of the subset of Milvus's grammar that
ragsilo supports, and written out again from the tree (:func:`canonical_filter`).
Input such as ``1==1)) or ((1==1`` therefore cannot close the parentheses that
keep it inside ``tenant == "acme" and (...)``: it does not parse, and is refused.

The subset::

    expr    := or
    or      := and (("or" | "||") and)*
    and     := not (("and" | "&&") not)*
    not     := ("not" | "!") not | cond
    cond    := value (cmp value (("<" | "<=" | ">" | ">=") value)?
                      | ["not"] "in" list | "like" string)?
    value   := term (("+" | "-") term)*
    term    := unary (("*" | "/" | "%") unary)*
    unary   := "-" number | primary
    primary := string | number | "true" | "false" | field | list
               | function "(" args ")" | "(" expr ")"
    field   := name ("[" (string | integer) "]")*
    list    := "[" (literal ("," literal)* ","?)? "]"

Functions: ``json_contains``, ``json_contains_all``, ``json_contains_any``,
``array_contains``, ``array_contains_all``, ``array_contains_any`` (conditions)
and ``array_length`` (a number). Keywords are case-insensitive.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ragsilo.errors import FilterError

STRING_FIELDS = ("id", "doc_id", "source", "file_sha256", "mime_type", "title", "section")
INT_FIELDS = ("page", "chunk_index", "doc_chunks", "cluster_id")
JSON_FIELD = "metadata"

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")
_MAX_VALUE_CHARS = 4096


def quote(value: str) -> str:
    """A Milvus string literal for ``value``: double-quoted, with ``\\`` and ``"`` escaped."""
    if not isinstance(value, str):
        raise FilterError(f"expected a string value, got {type(value).__name__}")
    if len(value) > _MAX_VALUE_CHARS:
        raise FilterError(
            f"filter value is {len(value)} characters; the limit is {_MAX_VALUE_CHARS}"
        )
    if any(ord(c) < 32 and c not in "\t" for c in value):
        raise FilterError("filter values may not contain control characters such as newlines")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_where(items: Iterable[str]) -> dict[str, list[str]]:
    """``["source=a.md", "page=2", "page=3"]`` → ``{"source": ["a.md"], "page": ["2", "3"]}``."""
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FilterError(f"--where {item!r} is not of the form field=value")
        out.setdefault(key, []).append(value)
    return out


def build_filter(
    where: Mapping[str, object] | None = None,
    expr: str | None = None,
    *,
    string_fields: Sequence[str] = STRING_FIELDS,
    int_fields: Sequence[str] = INT_FIELDS,
) -> str:
    """One Milvus boolean expression from equality filters and an optional raw expression.

    Each ``where`` value may be a scalar or a list (meaning "any of"). Different
    fields are joined with ``and``; the raw ``expr`` is parenthesised and added
    with ``and``. An empty result means "no filter".
    """
    clauses: list[str] = []
    for field, raw in (where or {}).items():
        values = list(raw) if isinstance(raw, (list, tuple, set, frozenset)) else [raw]
        if not values:
            raise FilterError(f"filter on {field!r} has no values")
        clauses.append(_clause(field, values, string_fields, int_fields))
    if expr is not None and expr.strip():
        clauses.append(f"({canonical_filter(expr)})")
    return " and ".join(clauses)


def _clause(
    field: str, values: list[object], string_fields: Sequence[str], int_fields: Sequence[str]
) -> str:
    if field in string_fields:
        lits = [quote(str(v)) for v in values]
        return _eq_or_in(field, lits)
    if field in int_fields:
        lits = [str(_as_int(field, v)) for v in values]
        return _eq_or_in(field, lits)
    if field.startswith(JSON_FIELD + "."):
        key = field[len(JSON_FIELD) + 1 :]
        if not _KEY_RE.match(key):
            raise FilterError(
                f"metadata key {key!r} is invalid: use letters, digits, '_' or '-' (at most 128)"
            )
        ref = f"{JSON_FIELD}[{quote(key)}]"
        parts: list[str] = []
        for v in values:
            parts.extend(_json_literals(ref, v))
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"
    known = ", ".join([*string_fields, *int_fields, "metadata.<key>"])
    raise FilterError(f"cannot filter on {field!r}; filterable fields are: {known}")


def _eq_or_in(field: str, lits: list[str]) -> str:
    if len(lits) == 1:
        return f"{field} == {lits[0]}"
    return f"{field} in [{', '.join(lits)}]"


def _as_int(field: str, v: object) -> int:
    if isinstance(v, bool):
        raise FilterError(f"{field} takes a whole number, not {v!r}")
    if isinstance(v, int):
        return v
    try:
        return int(str(v).strip())
    except ValueError:
        raise FilterError(f"{field} takes a whole number, not {str(v)!r}") from None


def _json_literals(ref: str, v: object) -> list[str]:
    """Metadata from CSV/JSON may hold a number as text or as a number: match both."""
    if isinstance(v, bool):
        return [f"{ref} == {'true' if v else 'false'}"]
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise FilterError("metadata filters take finite numbers only")
        return [f"{ref} == {v!r}", f"{ref} == {quote(str(v))}"]
    s = str(v)
    out = [f"{ref} == {quote(s)}"]
    if re.fullmatch(r"-?\d{1,18}", s.strip()):
        out.append(f"{ref} == {int(s)}")
    elif re.fullmatch(r"-?\d+\.\d+", s.strip()):
        out.append(f"{ref} == {float(s)!r}")
    elif s in ("true", "false"):
        out.append(f"{ref} == {s}")
    return out


_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}$")


def check_tenant(tenant: object) -> str:
    """``tenant`` when it is a valid tenant name: 1 to 128 characters, letters, digits and
    ``_ . : @ -``, starting with a letter or digit; else :class:`FilterError`."""
    if not isinstance(tenant, str) or not _TENANT_RE.match(tenant):
        raise FilterError(
            f"tenant {tenant!r} is invalid: use 1 to 128 letters, digits or _ . : @ -, "
            "starting with a letter or digit"
        )
    return tenant


def with_tenant(expr: str, tenant: str, field: str = "tenant") -> str:
    """``expr`` narrowed to one tenant: ``tenant == "<quoted>" and (expr)``.

    ``expr`` is parsed and written out again first (:func:`canonical_filter`), so
    whatever it holds stays one expression inside the parentheses; one that does
    not parse is refused with :class:`FilterError`.
    """
    clause = f"{field} == {quote(check_tenant(tenant))}"
    if not expr.strip():
        return clause
    return f"{clause} and ({canonical_filter(expr)})"


# --------------------------------------------------------------- raw expressions

MAX_EXPRESSION_CHARS = 16384
_MAX_DEPTH = 64
_INT64 = 2**63

_FUNCTIONS: dict[str, int] = {  # name -> number of arguments
    "json_contains": 2,
    "json_contains_all": 2,
    "json_contains_any": 2,
    "array_contains": 2,
    "array_contains_all": 2,
    "array_contains_any": 2,
    "array_length": 1,
}
_VALUE_FUNCTIONS = frozenset({"array_length"})
_KEYWORDS = frozenset({"and", "or", "not", "in", "like", "true", "false"})
_COMPARE = ("==", "!=", "<=", ">=", "<", ">")
_SYMBOLS: tuple[str, ...] = ("&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-")
_SYMBOLS += ("*", "/", "%", "(", ")", "[", "]", ",")
_UNSUPPORTED = {
    "**": "the power operator ** is not supported",
    "<<": "bit shifts are not supported",
    ">>": "bit shifts are not supported",
    "&": "use 'and' (or &&) to join conditions",
    "|": "use 'or' (or ||) to join conditions",
    "^": "the operator ^ is not supported",
    "~": "the operator ~ is not supported",
    "=": "use == to compare",
    ";": "a filter is one expression: ';' is not allowed",
    "$": "field names are letters, digits and '_'",
}
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class _Token:
    kind: str  # "str", "num", "name", "op", "end"
    text: str
    pos: int
    value: object = None


def _filter_error(message: str, text: str, pos: int) -> FilterError:
    near = text[pos : pos + 20]
    where = f" at character {pos + 1}" + (f" (near {near!r})" if near else " (at the end)")
    return FilterError(
        f"the filter expression is invalid{where}: {message}",
        hint='write one Milvus boolean expression, e.g. page >= 2 and source like "docs/%"',
    )


def _tokenize(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        if text.startswith(("--", "/*", "*/", "//"), i) or c == "#":
            raise _filter_error("comments are not allowed in a filter", text, i)
        if c in "\"'":
            value, i2 = _read_string(text, i)
            out.append(_Token("str", text[i:i2], i, value))
            i = i2
            continue
        m = _NUMBER_RE.match(text, i)
        if m and (c.isdigit() or c == "."):
            end = m.end()
            if end < n and (text[end].isalnum() or text[end] == "_"):
                raise _filter_error("a number runs into a name", text, i)
            out.append(_Token("num", m.group(0), i, _number(m.group(0), text, i)))
            i = end
            continue
        m = _NAME_RE.match(text, i)
        if m:
            out.append(_Token("name", m.group(0), i))
            i = m.end()
            continue
        for bad, why in _UNSUPPORTED.items():
            if text.startswith(bad, i) and not any(
                text.startswith(sym, i) and len(sym) >= len(bad) for sym in _SYMBOLS
            ):
                raise _filter_error(why, text, i)
        sym = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
        if sym is None:
            shown = repr(c) if c.isprintable() else f"U+{ord(c):04X}"
            raise _filter_error(f"the character {shown} has no meaning here", text, i)
        out.append(_Token("op", sym, i))
        i += len(sym)
    out.append(_Token("end", "", n))
    return out


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote_char = text[start]
    i, parts = start + 1, list[str]()
    while i < len(text):
        c = text[i]
        if c == quote_char:
            return "".join(parts), i + 1
        if c == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt not in ("\\", '"', "'"):
                raise _filter_error("in a string, a backslash may only escape \\, \" or '", text, i)
            parts.append(nxt)
            i += 2
            continue
        if ord(c) < 32 and c != "\t":
            raise _filter_error("strings may not hold control characters such as newlines", text, i)
        parts.append(c)
        i += 1
    raise _filter_error(f"the string opened with {quote_char} is never closed", text, start)


def _number(raw: str, text: str, pos: int) -> int | float:
    if re.fullmatch(r"\d+", raw):
        if len(raw) > 1 and raw.startswith("0"):
            raise _filter_error(f"write {int(raw)} rather than {raw} (no leading zeros)", text, pos)
        v = int(raw)
        if v >= _INT64:
            raise _filter_error("the number is too large for a 64-bit integer", text, pos)
        return v
    f = float(raw)
    if not math.isfinite(f):
        raise _filter_error("the number is too large", text, pos)
    return f


# The parsed tree: small frozen nodes; ``kind`` says whether a node is a condition
# (true or false) or a value (a field, literal, list, number).


@dataclass(frozen=True)
class Literal:
    value: str | int | float | bool


@dataclass(frozen=True)
class Field:
    name: str
    path: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class ListLit:
    items: tuple[Literal, ...]


@dataclass(frozen=True)
class Arith:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[object, ...]


@dataclass(frozen=True)
class Compare:
    """``left op right``, or a range ``left op right op2 upper`` when ``op2`` is set."""

    op: str
    left: object
    right: object
    op2: str | None = None
    upper: object = None


@dataclass(frozen=True)
class In:
    value: object
    items: ListLit
    negated: bool


@dataclass(frozen=True)
class Like:
    value: object
    pattern: str


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[object, ...]


def _is_condition(node: object) -> bool:
    if isinstance(node, (Compare, In, Like, Not, BoolOp)):
        return True
    return isinstance(node, Call) and node.name not in _VALUE_FUNCTIONS


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.arith = 0

    # token helpers
    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def word(self, tok: _Token) -> str | None:
        """The keyword a token is (``and``, ``or``, ``not``, ...), else None."""
        if tok.kind == "name" and tok.text.lower() in _KEYWORDS:
            return tok.text.lower()
        if tok.kind == "op":
            return {"&&": "and", "||": "or", "!": "not"}.get(tok.text)
        return None

    def fail(self, message: str, tok: _Token | None = None) -> FilterError:
        tok = tok or self.peek()
        return _filter_error(message, self.text, tok.pos)

    def expect(self, op: str, what: str) -> _Token:
        tok = self.peek()
        if tok.kind != "op" or tok.text != op:
            found = "the end of the filter" if tok.kind == "end" else repr(tok.text)
            raise self.fail(f"expected {what}, found {found}")
        return self.next()

    # grammar
    def parse(self) -> object:
        if self.peek().kind == "end":
            raise self.fail("the filter is empty")
        node = self.or_expr()
        tok = self.peek()
        if tok.kind != "end":
            if tok.kind == "op" and tok.text == ")":
                raise self.fail("this ')' closes a parenthesis that was never opened")
            raise self.fail("the filter must be one expression; join conditions with 'and' or 'or'")
        return self.condition(node, self.tokens[0])

    def condition(self, node: object, tok: _Token) -> object:
        if not _is_condition(node):
            raise self.fail(
                "this is a value, not a condition: compare it (==, !=, <, >, in, like)", tok
            )
        return node

    def nested(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.fail(f"the filter nests deeper than {_MAX_DEPTH} levels")

    def arith_step(self) -> None:
        self.arith += 1
        if self.arith > _MAX_DEPTH:
            raise self.fail(f"the filter has more than {_MAX_DEPTH} arithmetic operations")

    def or_expr(self) -> object:
        return self.bool_chain("or", self.and_expr)

    def and_expr(self) -> object:
        return self.bool_chain("and", self.not_expr)

    def bool_chain(self, op: str, sub: Callable[[], object]) -> object:
        start = self.peek()
        first = sub()
        if self.word(self.peek()) != op:
            return first
        operands = [self.condition(first, start)]
        while self.word(self.peek()) == op:
            self.next()
            tok = self.peek()
            operands.append(self.condition(sub(), tok))
        return BoolOp(op, tuple(operands))

    def not_expr(self) -> object:
        if self.word(self.peek()) == "not" and self.word(self.peek(1)) != "in":
            self.next()
            self.nested()
            tok = self.peek()
            operand = self.condition(self.not_expr(), tok)
            self.depth -= 1
            return Not(operand)
        return self.cond()

    def cond(self) -> object:
        start = self.peek()
        left = self.value()
        tok = self.peek()
        word = self.word(tok)
        if tok.kind == "op" and tok.text in _COMPARE:
            self.next()
            right = self.operand()
            nxt = self.peek()
            if nxt.kind == "op" and nxt.text in ("<", "<=", ">", ">="):
                if tok.text not in ("<", "<=", ">", ">="):
                    raise self.fail("a range is written low < field < high", nxt)
                if (tok.text[0] == "<") != (nxt.text[0] == "<"):
                    raise self.fail("a range runs one way: low < field < high", nxt)
                if not isinstance(right, Field):
                    raise self.fail("the middle of a range must be a field", nxt)
                self.next()
                upper = self.operand()
                return Compare(tok.text, self.plain(left, start), right, nxt.text, upper)
            if isinstance(left, Literal) and isinstance(right, Literal):
                # Milvus refuses these, and a 2.3.5 server crashes on `1 == "a"`
                raise self.fail("this compares two constants: compare a field", start)
            return Compare(tok.text, self.plain(left, start), right)
        if word == "in" or (word == "not" and self.word(self.peek(1)) == "in"):
            negated = word == "not"
            self.next()
            if negated:
                self.next()
            return In(self.plain(left, start), self.literal_list(), negated)
        if word == "like":
            self.next()
            pat = self.peek()
            if pat.kind != "str":
                raise self.fail('like takes a quoted pattern, e.g. source like "docs/%"')
            self.next()
            return Like(self.plain(left, start), str(pat.value))
        return left

    def plain(self, node: object, tok: _Token) -> object:
        if _is_condition(node):
            raise self.fail(
                "a condition cannot be compared; join conditions with 'and' or 'or'", tok
            )
        return node

    def operand(self) -> object:
        tok = self.peek()
        return self.plain(self.value(), tok)

    def value(self) -> object:
        start = self.peek()
        left = self.term()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            op = self.next().text
            self.arith_step()
            tok = self.peek()
            right = self.numeric(self.term(), tok)
            left = Arith(op, self.numeric(left, start), right)
        return left

    def term(self) -> object:
        start = self.peek()
        left = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("*", "/", "%"):
            op = self.next().text
            self.arith_step()
            tok = self.peek()
            right = self.numeric(self.unary(), tok)
            if op in ("/", "%") and isinstance(right, Literal) and right.value == 0:
                # refused here: a Milvus 2.3.5 server crashes on a division by zero
                raise self.fail("division by zero", tok)
            left = Arith(op, self.numeric(left, start), right)
        return left

    def numeric(self, node: object, tok: _Token) -> object:
        """An operand of arithmetic: a number, a field, array_length(...) or arithmetic.
        (Milvus 2.3 servers crash on arithmetic with a string, so it never reaches them.)"""
        node = self.plain(node, tok)
        if isinstance(node, (Field, Arith)) or (
            isinstance(node, Call) and node.name in _VALUE_FUNCTIONS
        ):
            return node
        if isinstance(node, Literal) and type(node.value) in (int, float):
            return node
        raise self.fail("arithmetic takes numbers and fields only", tok)

    def unary(self) -> object:
        tok = self.peek()
        if tok.kind == "op" and tok.text == "-":
            self.next()
            num = self.peek()
            if num.kind != "num":
                raise self.fail("a minus sign goes before a number only", num)
            self.next()
            value = num.value
            assert isinstance(value, (int, float))
            return Literal(-value)
        return self.primary()

    def primary(self) -> object:
        tok = self.peek()
        if tok.kind == "end":
            raise self.fail("the filter ends where a value or condition was expected")
        if tok.kind == "str":
            self.next()
            return Literal(str(tok.value))
        if tok.kind == "num":
            self.next()
            assert isinstance(tok.value, (int, float))
            return Literal(tok.value)
        if tok.kind == "op" and tok.text == "(":
            self.next()
            self.nested()
            inner = self.or_expr()
            self.expect(")", "')' to close the '(' at character " + str(tok.pos + 1))
            self.depth -= 1
            return inner
        if tok.kind == "op" and tok.text == "[":
            return self.literal_list()
        if tok.kind == "name":
            low = tok.text.lower()
            if low in ("true", "false"):
                self.next()
                return Literal(low == "true")
            if low in _KEYWORDS:
                raise self.fail(f"{tok.text!r} cannot start a value")
            if low in _FUNCTIONS:
                return self.call(low)
            if self.peek(1).kind == "op" and self.peek(1).text == "(":
                known = ", ".join(_FUNCTIONS)
                raise self.fail(f"function {tok.text!r} is not supported; supported: {known}")
            return self.field()
        raise self.fail(f"{tok.text!r} cannot start a value")

    def field(self) -> Field:
        name = self.next().text
        path: list[str | int] = []
        while self.peek().kind == "op" and self.peek().text == "[":
            self.next()
            key = self.next()
            if key.kind == "str":
                path.append(str(key.value))
            elif key.kind == "num" and isinstance(key.value, int):
                path.append(key.value)
            else:
                raise self.fail("a field is indexed by a quoted key or a whole number", key)
            self.expect("]", "']'")
        return Field(name, tuple(path))

    def call(self, name: str) -> Call:
        start = self.next()
        self.expect("(", "'(' after " + name)
        args: list[object] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            while True:
                tok = self.peek()
                args.append(self.plain(self.value(), tok))
                if self.peek().kind == "op" and self.peek().text == ",":
                    self.next()
                    continue
                break
        self.expect(")", f"')' to close {name}(")
        if len(args) != _FUNCTIONS[name] or not isinstance(args[0], Field):
            want = "a field" if _FUNCTIONS[name] == 1 else "a field and a value"
            raise self.fail(f"{name} takes {want}", start)
        return Call(name, tuple(args))

    def literal_list(self) -> ListLit:
        self.expect("[", "a list such as [1, 2]")
        items: list[Literal] = []
        while not (self.peek().kind == "op" and self.peek().text == "]"):
            tok = self.peek()
            literal = tok.kind in ("str", "num") or (tok.kind == "op" and tok.text == "-")
            if not literal and self.word(tok) not in ("true", "false"):
                raise self.fail("a list holds literal values only (strings, numbers)", tok)
            item = self.unary()
            if not isinstance(item, Literal):
                raise self.fail("a list holds literal values only (strings, numbers)", tok)
            items.append(item)
            if self.peek().kind == "op" and self.peek().text == ",":
                self.next()
                continue
            if not (self.peek().kind == "op" and self.peek().text == "]"):
                raise self.fail("expected ',' or ']' in the list")
        self.next()
        return ListLit(tuple(items))


def parse_expression(text: str) -> object:
    """The tree of one raw Milvus boolean expression, or :class:`FilterError` saying where
    and why it does not parse (see the module docstring for the grammar)."""
    if not isinstance(text, str):
        raise FilterError(f"a filter expression is text, not {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise FilterError(
            f"the filter expression is {len(text)} characters; the limit is {MAX_EXPRESSION_CHARS}"
        )
    return _Parser(text).parse()


def canonical_filter(text: str) -> str:
    """``text`` parsed as one boolean expression and written out again from the tree:
    literals re-quoted, every compound part parenthesised. The result can be placed in
    a larger expression safely."""
    return _write(parse_expression(text), top=True)


def _write(node: object, top: bool = False) -> str:
    def wrap(s: str) -> str:
        return s if top else f"({s})"

    if isinstance(node, Literal):
        return _write_literal(node.value)
    if isinstance(node, Field):
        return node.name + "".join(
            f"[{quote(p)}]" if isinstance(p, str) else f"[{p}]" for p in node.path
        )
    if isinstance(node, ListLit):
        return "[" + ", ".join(_write_literal(i.value) for i in node.items) + "]"
    if isinstance(node, Arith):
        # parentheses only where precedence needs them: Milvus 2.3 reads `page + 1 == 2`
        # but not `(page + 1) == 2`
        return f"{_write_operand(node.left, node.op, False)} {node.op} " + _write_operand(
            node.right, node.op, True
        )
    if isinstance(node, Call):
        return f"{node.name}({', '.join(_write(a) for a in node.args)})"
    if isinstance(node, Compare):
        s = f"{_write(node.left)} {node.op} {_write(node.right)}"
        if node.op2 is not None:
            # a range, written as two comparisons: Milvus Lite reads no chained ones
            s = f"({s}) and ({_write(node.right)} {node.op2} {_write(node.upper)})"
        return wrap(s)
    if isinstance(node, In):
        op = "not in" if node.negated else "in"
        return wrap(f"{_write_value(node.value)} {op} {_write(node.items)}")
    if isinstance(node, Like):
        return wrap(f"{_write_value(node.value)} like {quote(node.pattern)}")
    if isinstance(node, Not):
        return wrap(f"not ({_write(node.operand, top=True)})")
    if isinstance(node, BoolOp):
        return wrap(f" {node.op} ".join(_write(o) for o in node.operands))
    raise TypeError(f"not a filter node: {node!r}")  # pragma: no cover - parser makes these


def _write_operand(node: object, op: str, right: bool) -> str:
    text = _write(node)
    if isinstance(node, Arith):
        inner, outer = _PRECEDENCE[node.op], _PRECEDENCE[op]
        if inner < outer or (right and inner == outer):
            return f"({text})"
    return text


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2}


def _write_value(node: object) -> str:
    """The left side of ``in`` or ``like``: arithmetic in parentheses (Milvus binds ``like``
    tighter than arithmetic)."""
    return f"({_write(node)})" if isinstance(node, Arith) else _write(node)


def _write_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return quote(str(value))
