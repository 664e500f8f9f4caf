"""Text utilities shared by the answer rules, the retrieval check and the data code: normalisation, overlap
measures, and reading the strings of a Python list literal in linear time."""

from __future__ import annotations

import ast
import re
import string
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import filterfalse

# deleted by a regex: str.translate looks every character of a non-ASCII text up in a dict
_PUNCT = re.compile("[" + re.escape(string.punctuation + "\u2018\u2019\u201c\u201d\u2013\u2014") + "]")
_ASCII_PUNCT = string.punctuation.encode()
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ARTICLE_WORDS = frozenset({"a", "an", "the"})
_SPACED_ARTICLES = (" a ", " an ", " the ")
MAX_LITERAL_CHARS = 200_000
_QUOTE = re.compile("['\"]")
# A string literal's body after its opening quote: plain characters or escape pairs, possessive (no
# backtracking), stopping at the first unescaped quote of its kind, a line end or a lone backslash.
_STRING_BODY = {quote: re.compile(rf"(?:[^{quote}\\\n]|\\.)*+") for quote in "'\""}
_PLAIN_STRING = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
# A whole list of plain quoted strings (the trace format's own output), possessive throughout (linear).
_PLAIN_ITEM = r"(?:'[^'\n\\]*+'|\"[^\"\n\\]*+\")"
_PLAIN_LIST = re.compile(rf"\[\s*+(?:{_PLAIN_ITEM}(?:\s*+,\s*+{_PLAIN_ITEM})*+\s*+,?+)?+\s*+\]")


def squash_spaces(text: str) -> str:
    """NFKC and whitespace collapsed: how context units are compared with what a trace cites."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


@lru_cache(maxsize=262144)
def normalize_answer(text: str) -> str:
    """NFKC, lower case, no punctuation, no articles, single spaces (SQuAD-style, Unicode-safe)."""
    if text.isascii():  # NFKC changes no ASCII text; the same deletions, on bytes
        text = text.lower().encode().translate(None, _ASCII_PUNCT).decode()
        plain = text.isprintable()  # without its punctuation: letters, digits and spaces only
        if plain and "  " not in text and text[:1] != " " and text[-1:] != " ":  # words between single spaces
            return _without_articles(f" {text} ")[1:-1]
    else:
        text = _PUNCT.sub("", unicodedata.normalize("NFKC", text).lower())
        plain = False
    words = text.split()
    if plain or "".join(words).isalnum():  # only word characters between the spaces: an article is a whole word
        return " ".join(filterfalse(_ARTICLE_WORDS.__contains__, words))
    return " ".join(_ARTICLES.sub(" ", text).split())


def _without_articles(text: str) -> str:
    """``text`` (words between single spaces, a space at each end) without its article words. Deleting every
    occurrence of one article leaves it where two were next to each other (" the the "), so it is repeated; deleting
    one article's words makes no other article word."""
    for article in _SPACED_ARTICLES:
        while article in text:
            text = text.replace(article, " ")
    return text


def precision_recall_f1(n_common: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    """P, R, F1 from counts; an empty prediction against an empty gold set is a perfect match."""
    if n_pred == 0 and n_gold == 0:
        return 1.0, 1.0, 1.0
    if n_common == 0:
        return 0.0, 0.0, 0.0
    p, r = n_common / n_pred, n_common / n_gold
    return p, r, 2 * p * r / (p + r)


def multiset_f1(pred: list[str], gold: list[str]) -> float:
    """F1 of two bags of items (CoTempQA's answer F1, SQuAD's token F1)."""
    common = sum((Counter(pred) & Counter(gold)).values())
    return precision_recall_f1(common, len(pred), len(gold))[2]


def token_f1(pred: str, gold: str) -> float:
    """SQuAD token F1 of two normalised strings."""
    return multiset_f1(normalize_answer(pred).split(), normalize_answer(gold).split())


def _eval_literal(source: str) -> object:
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _string_tokens(source: str) -> list[tuple[int, int]]:
    """Spans of the quoted string literals in ``source``, left to right, in one pass.

    A quote that opens no literal (no closing quote before the line end) is skipped, and so is every
    quote of its kind up to where that scan stopped: those are escaped inside the failed scan, and a
    scan from them would stop at the same place. Each character is scanned at most once per quote kind.
    Without any backslash one regex pass does the same: a failed scan stops at the first line end, and
    no other quote of its kind lies before it.
    """
    if "\\" not in source:  # no escapes: a failed scan ends at the line end, so the regex stays linear
        return [m.span() for m in _PLAIN_STRING.finditer(source)]
    tokens, failed_until = [], {"'": -1, '"': -1}
    pos = 0
    while (found := _QUOTE.search(source, pos)) is not None:
        start, quote = found.start(), found.group()
        if start < failed_until[quote]:
            pos = start + 1
            continue
        end = _STRING_BODY[quote].match(source, start + 1).end()
        if end < len(source) and source[end] == quote:
            tokens.append((start, end + 1))
            pos = end + 1
        else:
            failed_until[quote] = end
            pos = start + 1
    return tokens


def _is_list_frame(pieces: list[str]) -> bool:
    """Whether the text around string tokens is exactly a list's brackets and separating commas."""
    if len(pieces) == 1:
        return pieces[0][1:-1].strip() == ""
    first, last = "".join(pieces[0].split()), "".join(pieces[-1].split())
    return first == "[" and last in ("]", ",]") and all(p.strip() == "," for p in pieces[1:-1])


def literal_strings(text: str) -> list[str] | None:
    """The strings of a Python list literal in ``text`` (``['a', 'b']``), or ``None`` if there is none.

    A list of plain quoted strings (the trace format's own output) is read without compiling; anything
    else goes through ``ast.literal_eval``. Linear in the length of ``text``.
    """
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end <= start or end - start > MAX_LITERAL_CHARS:
        return None
    source = text[start:end + 1]
    inner = source[1:-1].strip()
    quote = inner[:1]
    if len(inner) > 1 and quote in "'\"" and inner[-1] == quote:  # one plain string, the most common list
        body = inner[1:-1]
        if quote not in body and "\n" not in body and "\\" not in body:
            return [body]
    if _PLAIN_LIST.fullmatch(source):  # plain strings only: read in one pass
        return [token[1:-1] for token in _PLAIN_STRING.findall(source)]
    tokens = _string_tokens(source)
    bounds = [0, *(i for span in tokens for i in span), len(source)]
    pieces = [source[bounds[i]:bounds[i + 1]] for i in range(0, len(bounds), 2)]  # "[", ", ", ..., "]"
    if _is_list_frame(pieces):
        items = []
        for token in (source[a:b] for a, b in tokens):
            if "\\" in token:
                value = _eval_literal(token)
                if not isinstance(value, str):
                    return None
                items.append(value)
            else:
                items.append(token[1:-1])
        return items
    value = _eval_literal(source)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None
