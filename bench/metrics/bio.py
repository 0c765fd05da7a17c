"""Token tag sequences → entity spans, and entity-level P/R/F1 equal to seqeval's.

A tag is ``"O"``, or a one-letter prefix optionally followed by ``-`` and a type:
``"B-PER"``, ``"I-LOC"``, ``"B"`` (a bare prefix, or ``"B-"``, has seqeval's type ``"_"``).
Suffix-style tags (``"PER-B"``) are not supported.

Two decodings, selected by ``mode``:

``mode="default"`` — conlleval / ``seqeval`` without ``mode`` (``get_entities``)
    Prefixes ``B I E S`` and ``O``. Reading left to right, a token *continues* the open
    chunk when the previous token was ``B``/``I``, this one is ``I``/``E`` and the type
    is the same; any other non-``O`` token starts a new chunk. ``E``/``S`` close the chunk
    after themselves, and ``B``/``S``/``O`` or a type change close it before. So an
    ``I-X`` after ``O`` or after another type starts an entity, and a lone ``E-X`` or
    ``S-X`` is a one-token entity.

``mode="strict", scheme=...`` — ``seqeval`` with ``mode="strict"`` (``seqeval.scheme``)
    One of ``IOB1 IOB2 IOE1 IOE2 IOBES BILOU``, with seqeval's start / inside / end
    patterns verbatim: an entity begins at a token matching a start pattern, extends
    over the following tokens matching an inside pattern, and is kept only if the token
    after it matches an end pattern; otherwise it is dropped (e.g. IOB2 drops an entity
    that starts with ``I-``). Tokens whose prefix the scheme does not allow raise
    ``ValueError`` (so does seqeval). seqeval's own IOE1 patterns carry a known gap
    ("IOE1 hasn't yet been able to handle some cases"); bench reproduces them as they are.

Spans are half-open ``(start, end, type)`` token offsets within a sequence (seqeval's
``get_entities`` reports an inclusive end, its strict ``Entity`` an exclusive one).

Scores (:func:`bio_scores`) are seqeval's: an entity is a true positive when the other
side has one with the same sequence, start, end and type; per type
``P = TP / predicted``, ``R = TP / support``, ``F1 = 2PR / (P + R)``; ``micro`` pools the
counts, ``macro`` is the unweighted mean of the per-type values and ``weighted`` the
mean weighted by support (``numpy.average``, as seqeval).

Conventions where bench departs from seqeval:

* Zero division: a zero denominator gives ``zero_division`` (default 0.0, bench's
  convention everywhere — ``bench.metrics.values.precision_recall_f1``), which is what
  seqeval returns with ``zero_division="warn"`` (its default) or ``0``; ``1`` is also
  accepted and matches seqeval's ``zero_division=1``. bench never warns.
* With no entity at all on either side, seqeval's macro average is the mean of an
  empty array: NaN and a RuntimeWarning. bench reports ``zero_division`` (seqeval's
  weighted average already special-cases this; bench follows it).
* ``mode="strict"`` requires a ``scheme`` (seqeval's ``precision_score``/``f1_score``
  silently fall back to the default decoding without one, and its
  ``classification_report`` guesses one). ``scheme`` with ``mode="default"`` is an error
  (seqeval ignores it).
* Malformed tags (``"PER"``, ``"X-PER"``, ``"O-PER"``, ``"BPER"``) and, in default mode,
  prefixes other than ``B I E S`` (``U-``, ``L-``) raise ``ValueError``; seqeval's
  default mode only warns and reads the first character as the prefix.

nervaluate's list/CoNLL loaders decode ``B``/``I``/``O`` tags exactly as the default mode
does (they reject ``E-``/``S-``), so ``bio_to_spans`` + ``bench.metrics.spans.span_scores``
equals ``nervaluate.Evaluator(..., loader="list")``.

Implementation: :func:`bio_scores` and :func:`bio_to_spans` map tags to small integer
codes once (one dictionary lookup per token), lay the sequences end to end with an ``O``
between them (seqeval does the same in default mode), and decode with numpy array
operations on the codes — the strict mode through a closed form of seqeval's scanning
loop (see :func:`_decode_strict`). :func:`decode` (one sequence) is a plain-Python single
pass with the same tables, for callers that decode a sentence at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import chain
from typing import Any, Literal

import numpy as np

from bench.metrics.spans import LabelledSpan

Mode = Literal["default", "strict"]
SCHEMES: tuple[str, ...] = ("IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU")
Average = Literal["micro", "macro", "weighted"]

_O, _B, _I, _E, _S, _U, _L = range(7)
_PREFIX = {"O": _O, "B": _B, "I": _I, "E": _E, "S": _S, "U": _U, "L": _L}
_DEFAULT_PREFIXES = frozenset("OBIES")
_OUTSIDE_TYPE = "_"

# seqeval.scheme, transcribed: (previous prefix, current prefix, type condition);
# "*" is any prefix, "same"/"diff"/"any" compare the two tokens' types.
_PATTERNS: dict[str, dict[str, tuple[str, ...]]] = {
    "IOB1": {
        "allowed": ("IOB",),
        "start": ("O I any", "I I diff", "B I any", "I B same", "B B same"),
        "inside": ("B I same", "I I same"),
        "end": ("I I diff", "I O any", "I B any", "B O any", "B I diff", "B B same"),
    },
    "IOE1": {
        "allowed": ("IOE",),
        "start": ("O I any", "I I diff", "E I any", "E E same"),
        "inside": ("I I same", "I E same"),
        "end": ("I I diff", "I O any", "I E diff", "E I same", "E E same"),
    },
    "IOB2": {
        "allowed": ("IOB",),
        "start": ("* B any",),
        "inside": ("B I same", "I I same"),
        "end": ("I O any", "I I diff", "I B any", "B O any", "B I diff", "B B any"),
    },
    "IOE2": {
        "allowed": ("IOE",),
        "start": ("O I any", "O E any", "E I any", "E E any", "I I diff", "I E diff"),
        "inside": ("I E same", "I I same"),
        "end": ("E * any",),
    },
    "IOBES": {
        "allowed": ("IOBES",),
        "start": ("* B any", "* S any"),
        "inside": ("B I same", "B E same", "I I same", "I E same"),
        "end": ("S * any", "E * any"),
    },
    "BILOU": {
        "allowed": ("BILOU",),
        "start": ("* B any", "* U any"),
        "inside": ("B I same", "B L same", "I I same", "I L same"),
        "end": ("U * any", "L * any"),
    },
}


def _table(patterns: tuple[str, ...]) -> np.ndarray:
    """Boolean lookup ``table[previous prefix, current prefix, same type]``."""
    table = np.zeros((7, 7, 2), dtype=bool)
    for pattern in patterns:
        prev, cur, cond = pattern.split()
        prevs = range(7) if prev == "*" else [_PREFIX[prev]]
        curs = range(7) if cur == "*" else [_PREFIX[cur]]
        sames = {"any": (0, 1), "same": (1,), "diff": (0,)}[cond]
        for a in prevs:
            for b in curs:
                for same in sames:
                    table[a, b, same] = True
    return table


_TABLES = {
    name: (
        frozenset(spec["allowed"][0]),
        _table(spec["start"]),
        _table(spec["inside"]),
        _table(spec["end"]),
    )
    for name, spec in _PATTERNS.items()
}


_PACKED = {
    name: (start | (inside.astype(np.uint8) << 1) | (end.astype(np.uint8) << 2))
    .astype(np.uint8)
    .reshape(-1)
    for name, (_, start, inside, end) in _TABLES.items()
}
_PACKED_LISTS = {name: table.tolist() for name, table in _PACKED.items()}

# ------------------------------------------------------------------------------ encoding


class _Encoded:
    """Sequences laid end to end as tag codes: ``O s0 O s1 O ... s_{n-1} O``.

    ``prefix_of``/``type_of`` give each tag code's prefix and type code (shared by all
    sides encoded together); ``base`` is the position of each sequence's first token.
    """

    __slots__ = ("layout", "prefix_of", "type_of", "base", "lengths")

    def __init__(
        self,
        layout: np.ndarray,
        prefix_of: np.ndarray,
        type_of: np.ndarray,
        base: np.ndarray,
        lengths: np.ndarray,
    ) -> None:
        self.layout = layout
        self.prefix_of = prefix_of
        self.type_of = type_of
        self.base = base
        self.lengths = lengths

    def pairs(self, rule: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """``rule(prev prefix, prefix, same type)`` for each token and its predecessor.

        Evaluated once per pair of tag codes (the tag vocabulary is small) and gathered,
        or per token when the vocabulary is large.
        """
        prefix_of, type_of, layout = self.prefix_of, self.type_of, self.layout
        size = len(prefix_of)
        if size <= 1024:
            table = rule(prefix_of[:, None], prefix_of[None, :], type_of[:, None] == type_of)
            gathered: np.ndarray = table.reshape(-1)[layout[:-1] * size + layout[1:]]
            return gathered
        prefix, type_ = prefix_of[layout], type_of[layout]
        return rule(prefix[:-1], prefix[1:], type_[:-1] == type_[1:])


def _check_sequences(sequences: Any, name: str) -> list[Sequence[str]]:
    if isinstance(sequences, str | bytes) or not isinstance(sequences, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a sequence of tag sequences")
    out = list(sequences)
    if not set(map(type, out)) <= {list, tuple}:  # the common case, checked fast
        for i, seq in enumerate(out):
            if isinstance(seq, str | bytes) or not isinstance(seq, Sequence | np.ndarray):
                kind = type(seq).__name__
                raise TypeError(f"{name}[{i}] must be a sequence of tags, not {kind}")
    return out


def _parse_tag(tag: Any, mode: str, allowed: frozenset[str]) -> tuple[int, str]:
    """``(prefix code, type)`` of one tag, with seqeval's type extraction per mode."""
    if not isinstance(tag, str):
        raise TypeError(f"tags must be strings, got {tag!r}")
    if tag == "O":
        return _O, _OUTSIDE_TYPE
    if not tag or tag[0] not in _PREFIX or tag[0] == "O" or (len(tag) > 1 and tag[1] != "-"):
        raise ValueError(f"malformed tag {tag!r}: expected 'O' or '<prefix>-<type>'")
    if tag[0] not in allowed:
        where = "the default mode" if mode == "default" else "this scheme"
        raise ValueError(
            f"tag {tag!r}: prefix {tag[0]!r} is not allowed in {where} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    rest = tag[2:]
    if mode == "strict":  # seqeval.scheme.Token: token[1:].strip("-") or "_"
        rest = rest.strip("-")
    # seqeval.get_entities: chunk[1:].split("-", maxsplit=1)[-1] or "_"
    return _PREFIX[tag[0]], rest or _OUTSIDE_TYPE


class _Vocabulary(dict[str, int]):
    """Tag → code; an unseen tag gets the next code (one hash lookup per token)."""

    def __missing__(self, tag: str) -> int:
        code = self[tag] = len(self)
        return code


def _encode(
    sides: list[list[Sequence[str]]], mode: str, allowed: frozenset[str]
) -> tuple[list[_Encoded], list[str]]:
    """Encode several lists of sequences with one tag vocabulary (``"O"`` is code 0)."""
    vocab = _Vocabulary(O=0)
    coded = []
    for sequences in sides:
        lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
        n = int(lengths.sum())
        try:
            codes = np.fromiter(
                map(vocab.__getitem__, chain.from_iterable(sequences)), dtype=np.int64, count=n
            )
        except TypeError as exc:
            raise TypeError("tags must be strings") from exc
        coded.append((lengths, codes))
    return _layouts(coded, list(vocab), mode, allowed), _type_names(list(vocab), mode, allowed)


def _type_names(tags: list[str], mode: str, allowed: frozenset[str]) -> list[str]:
    """The entity types of ``tags`` (the vocabulary, in code order), in type-code order."""
    return list(dict.fromkeys([_OUTSIDE_TYPE, *(_parse_tag(t, mode, allowed)[1] for t in tags)]))


def _layouts(
    coded: list[tuple[np.ndarray, np.ndarray]], tags: list[str], mode: str, allowed: frozenset[str]
) -> list[_Encoded]:
    """Each side's ``(lengths, codes)`` laid out for decoding; ``tags`` is the vocabulary
    in code order, ``tags[0]`` an outside tag."""
    types = {name: code for code, name in enumerate(_type_names(tags, mode, allowed))}
    prefix_of = np.zeros(len(tags), dtype=np.int64)
    type_of = np.zeros(len(tags), dtype=np.int64)
    for code, tag in enumerate(tags):
        prefix, type_ = _parse_tag(tag, mode, allowed)
        prefix_of[code] = prefix
        type_of[code] = types[type_]
    encoded = []
    for lengths, codes in coded:
        n_seq = len(lengths)
        separators = np.zeros(len(codes) + n_seq + 1, dtype=bool)
        separators[0] = True
        separators[np.cumsum(lengths + 1)] = True
        layout = np.zeros(len(separators), dtype=np.int64)  # 0 is "O"
        layout[~separators] = codes
        base = np.concatenate(([1], np.cumsum(lengths + 1)[:-1] + 1)).astype(np.int64)
        encoded.append(_Encoded(layout, prefix_of, type_of, base[:n_seq], lengths))
    return encoded


# ------------------------------------------------------------------------------ decoding


def _continues(prev: np.ndarray, cur: np.ndarray, same: np.ndarray) -> np.ndarray:
    """Default mode: the token continues the chunk opened by its predecessor."""
    continues: np.ndarray = ((prev == _B) | (prev == _I)) & ((cur == _I) | (cur == _E)) & same
    return continues


def _decode_default(enc: _Encoded) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """seqeval ``get_entities`` on the whole layout: (starts, ends exclusive, types)."""
    cont = np.zeros(len(enc.layout), dtype=bool)
    cont[1:] = enc.pairs(_continues)
    inside = enc.prefix_of[enc.layout] != _O
    starts = np.flatnonzero(inside & ~cont)
    last = inside
    last[:-1] &= ~cont[1:]
    ends = np.flatnonzero(last) + 1
    return starts, ends, enc.type_of[enc.layout[starts]]


def _decode_strict(enc: _Encoded, scheme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """seqeval ``Tokens.entities`` on the whole layout, without its loop.

    seqeval scans ``i``: if token ``i`` is a start (given token ``i-1``), it moves to
    ``j``, the first later token that is not inside (given its predecessor), records
    ``[i, j)`` if token ``j`` is an end, and continues at ``j``; otherwise at ``i + 1``.
    So token ``k`` is skipped ("consumed") iff it is inside and token ``k-1`` was
    consumed or was a start: ``consumed[k] = inside[k] & (consumed[k-1] | start[k-1])``.
    Within a run of inside tokens that begins after token ``a``, this is "some token in
    ``[a, k-1]`` is a start", i.e. the last start before ``k`` is not before the last
    non-inside token before ``k``. Only start tokens need the test: binary searches in
    the sorted positions of the starts and of the non-inside tokens answer it, and give
    each kept start its ``j``.
    """
    packed = _PACKED[scheme]
    # One lookup per token in the packed table: bit 0 start, bit 1 inside, bit 2 end.
    bits = np.zeros(len(enc.layout), dtype=np.uint8)
    bits[1:] = enc.pairs(lambda prev, cur, same: packed[prev * 14 + cur * 2 + same])
    start = (bits & 1).astype(bool)
    inside = (bits & 2).astype(bool)
    end = (bits & 4).astype(bool)
    candidates = np.flatnonzero(start)  # never 0: the layout starts with O
    outside = np.flatnonzero(~inside)  # holds 0 and the final O
    previous_start = np.concatenate(([-1], candidates[:-1]))
    last_outside = outside[np.searchsorted(outside, candidates) - 1]  # last one before k
    consumed = inside[candidates] & (previous_start >= last_outside)
    begins = candidates[~consumed]
    stops = outside[np.searchsorted(outside, begins + 1)]  # first non-inside after k
    kept = end[stops]
    begins, stops = begins[kept], stops[kept]
    return begins, stops, enc.type_of[enc.layout[begins]]


def _check_mode(mode: str, scheme: str | None) -> tuple[str | None, frozenset[str]]:
    if mode == "default":
        if scheme is not None:
            raise ValueError("scheme applies to mode='strict' only")
        return None, _DEFAULT_PREFIXES
    if mode == "strict":
        if scheme is None:
            raise ValueError(f"mode='strict' needs a scheme: one of {', '.join(SCHEMES)}")
        if not isinstance(scheme, str) or scheme.upper() not in _TABLES:
            raise ValueError(f"unknown scheme {scheme!r}: expected one of {', '.join(SCHEMES)}")
        name = scheme.upper()
        return name, _TABLES[name][0] | {"O"}
    raise ValueError(f"mode must be 'default' or 'strict', got {mode!r}")


def _decode(enc: _Encoded, scheme: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _decode_default(enc) if scheme is None else _decode_strict(enc, scheme)


def bio_to_spans(
    sequences: Sequence[Sequence[str]],
    *,
    mode: Mode = "default",
    scheme: str | None = None,
    item_ids: Sequence[Hashable] | None = None,
) -> list[LabelledSpan]:
    """Entities of tag sequences as ``(item_id, start, end, type)``, end exclusive.

    ``item_ids`` names the sequences (default: their index). Spans come in sequence
    order, then by start. ``mode``/``scheme`` as in the module docstring.
    """
    seqs = _check_sequences(sequences, "sequences")
    if item_ids is None:
        ids: list[Hashable] = list(range(len(seqs)))
    else:
        ids = list(item_ids)
        if len(ids) != len(seqs):
            raise ValueError(f"{len(ids)} item_ids for {len(seqs)} sequences")
    seq, starts, ends, types = decode_columns(seqs, mode=mode, scheme=scheme)
    return [
        (ids[k], s, e, x)
        for k, s, e, x in zip(seq.tolist(), starts.tolist(), ends.tolist(), types, strict=True)
    ]


def decode_columns(
    sequences: Sequence[Sequence[str]], *, mode: Mode = "default", scheme: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """The entities of :func:`bio_to_spans` as columns: each one's sequence index, start
    and end (exclusive) within its sequence, and type."""
    scheme_name, allowed = _check_mode(mode, scheme)
    (enc,), names = _encode([_check_sequences(sequences, "sequences")], mode, allowed)
    return _columns(enc, names, scheme_name)


def decode_coded_columns(
    codes: np.ndarray,
    tags: Sequence[str],
    lengths: np.ndarray,
    *,
    mode: Mode = "default",
    scheme: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """:func:`decode_columns` of the sequences of ``lengths[k]`` tags laid end to end,
    each tag given as its code in ``tags``."""
    scheme_name, allowed = _check_mode(mode, scheme)
    vocabulary = ["O", *tags]  # code 0 is outside
    lengths = np.asarray(lengths, dtype=np.int64)
    [enc] = _layouts([(lengths, np.asarray(codes) + 1)], vocabulary, mode, allowed)
    return _columns(enc, _type_names(vocabulary, mode, allowed), scheme_name)


def _columns(
    enc: _Encoded, names: list[str], scheme_name: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    starts, ends, types = _decode(enc, scheme_name)
    seq = np.searchsorted(enc.base, starts, side="right") - 1
    offset = enc.base[seq]
    return seq, starts - offset, ends - offset, [names[x] for x in types.tolist()]


def decode(
    tags: Sequence[str], *, mode: Mode = "default", scheme: str | None = None
) -> list[tuple[int, int, str]]:
    """Entities of one tag sequence as ``(start, end, type)`` tuples, end exclusive.

    A plain-Python single pass (no numpy set-up cost, for callers that decode one
    sentence at a time); it yields the same spans as :func:`bio_to_spans`.
    """
    scheme_name, allowed = _check_mode(mode, scheme)
    (seq,) = _check_sequences([tags], "tags")
    parsed = [_parse_cached(tag, mode, allowed) for tag in seq]
    if scheme_name is None:
        return _decode_default_one(parsed)
    return _decode_strict_one(parsed, scheme_name)


def _parse_cached(tag: Any, mode: str, allowed: frozenset[str]) -> tuple[int, str]:
    try:
        return _PARSE_CACHE[tag, mode, allowed]
    except KeyError:
        parsed = _parse_tag(tag, mode, allowed)
        if len(_PARSE_CACHE) < 100_000:
            _PARSE_CACHE[tag, mode, allowed] = parsed
        return parsed
    except TypeError:  # unhashable
        return _parse_tag(tag, mode, allowed)


_PARSE_CACHE: dict[tuple[Any, str, frozenset[str]], tuple[int, str]] = {}


def _decode_default_one(parsed: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """The state machine of :func:`_decode_default` on one sequence."""
    out: list[tuple[int, int, str]] = []
    open_type: str | None = None  # type of the chunk opened by a B/I token, if any
    begin = 0
    for i, (prefix, type_) in enumerate(parsed):
        if open_type is not None:
            if prefix in (_I, _E) and type_ == open_type:
                if prefix == _E:
                    out.append((begin, i + 1, type_))
                    open_type = None
                continue
            out.append((begin, i, open_type))
            open_type = None
        if prefix in (_B, _I):
            begin, open_type = i, type_
        elif prefix in (_E, _S):
            out.append((i, i + 1, type_))
    if open_type is not None:
        out.append((begin, len(parsed), open_type))
    return out


def _decode_strict_one(parsed: list[tuple[int, str]], scheme: str) -> list[tuple[int, int, str]]:
    """seqeval's ``Tokens.entities`` loop on one sequence, with table lookups."""
    packed = _PACKED_LISTS[scheme]
    tokens = [*parsed, (_O, _OUTSIDE_TYPE)]
    out: list[tuple[int, int, str]] = []
    prev, i, n = (_O, _OUTSIDE_TYPE), 0, len(tokens)
    while i < n:
        prefix, type_ = tokens[i]
        if packed[prev[0] * 14 + prefix * 2 + (prev[1] == type_)] & 1:
            j, last = i + 1, tokens[i]
            while packed[last[0] * 14 + tokens[j][0] * 2 + (last[1] == tokens[j][1])] & 2:
                last = tokens[j]
                j += 1
            after = tokens[j]
            if packed[last[0] * 14 + after[0] * 2 + (last[1] == after[1])] & 4:
                out.append((i, j, type_))
            i = j
        else:
            i += 1
        prev = tokens[i - 1]
    return out


# ------------------------------------------------------------------------------- scoring


def _divide(numerator: np.ndarray, denominator: np.ndarray, zero_division: float) -> np.ndarray:
    """numerator / denominator, ``zero_division`` where the denominator is 0 (seqeval)."""
    mask = denominator == 0
    safe = denominator.copy()
    safe[mask] = 1
    result: np.ndarray = numerator / safe
    result[mask] = zero_division
    return result


def _f1(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    denominator = precision + recall
    denominator[denominator == 0.0] = 1
    f1: np.ndarray = 2.0 * precision * recall / denominator
    return f1


def bio_scores(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    *,
    mode: Mode = "default",
    scheme: str | None = None,
    zero_division: float = 0.0,
) -> dict[str, Any]:
    """Entity-level precision, recall, F1 and support, as seqeval computes them.

    Parameters
    ----------
    y_true, y_pred:
        Parallel lists of tag sequences; sequence ``i`` of both must have equal length.
    mode, scheme:
        ``"default"`` (conlleval decoding, no scheme) or ``"strict"`` with one of
        ``IOB1 IOB2 IOE1 IOE2 IOBES BILOU`` (case-insensitive).
    zero_division:
        Value of a ratio whose denominator is 0: ``0`` (bench's convention, seqeval's
        ``"warn"``/``0``) or ``1``.

    Returns
    -------
    dict
        ``per_type[type]`` and ``micro``/``macro``/``weighted`` rows with ``precision``,
        ``recall``, ``f1`` and ``support`` (gold entities); ``per_type`` and ``micro``
        rows also carry ``predicted`` and ``true_positives``. Types are sorted and are
        those present on either side. Per type t:
        ``P_t = TP_t / pred_t``, ``R_t = TP_t / gold_t``, ``F1_t = 2 P_t R_t / (P_t + R_t)``;
        micro uses ``ΣTP, Σpred, Σgold``; macro = mean_t; weighted = Σ_t gold_t · x_t / Σgold.
    """
    scheme_name, allowed = _check_mode(mode, scheme)
    if isinstance(zero_division, bool) or zero_division not in (0, 1):
        raise ValueError(f"zero_division must be 0 or 1, got {zero_division!r}")
    zd = float(zero_division)
    true_seqs = _check_sequences(y_true, "y_true")
    pred_seqs = _check_sequences(y_pred, "y_pred")
    if len(true_seqs) != len(pred_seqs):
        raise ValueError(f"{len(true_seqs)} true sequences but {len(pred_seqs)} predicted")
    (t_enc, p_enc), names = _encode([true_seqs, pred_seqs], mode, allowed)
    if not np.array_equal(t_enc.lengths, p_enc.lengths):
        i = int(np.flatnonzero(t_enc.lengths != p_enc.lengths)[0])
        raise ValueError(
            f"sequence {i}: {t_enc.lengths[i]} true tags but {p_enc.lengths[i]} predicted"
        )
    ts, te, tt = _decode(t_enc, scheme_name)
    ps, pe, pt = _decode(p_enc, scheme_name)

    # Entities of one side are disjoint, so a start position identifies an entity.
    end_at = np.full(len(t_enc.layout), -1, dtype=np.int64)
    type_at = np.full(len(t_enc.layout), -1, dtype=np.int64)
    end_at[ts], type_at[ts] = te, tt
    hit = (end_at[ps] == pe) & (type_at[ps] == pt)
    n_types = len(names)
    tp = np.bincount(pt[hit], minlength=n_types)
    n_pred = np.bincount(pt, minlength=n_types)
    n_true = np.bincount(tt, minlength=n_types)
    present = sorted(np.flatnonzero((n_pred + n_true) > 0).tolist(), key=names.__getitem__)
    idx = np.asarray(present, dtype=np.int64)
    tp, n_pred, n_true = tp[idx], n_pred[idx], n_true[idx]

    precision = _divide(tp, n_pred, zd)
    recall = _divide(tp, n_true, zd)
    f1 = _f1(precision.copy(), recall.copy())
    per_type = {
        names[i]: {
            "precision": float(precision[k]),
            "recall": float(recall[k]),
            "f1": float(f1[k]),
            "support": int(n_true[k]),
            "predicted": int(n_pred[k]),
            "true_positives": int(tp[k]),
        }
        for k, i in enumerate(present)
    }
    total = (np.array([tp.sum()]), np.array([n_pred.sum()]), np.array([n_true.sum()]))
    micro_p = _divide(total[0], total[1], zd)
    micro_r = _divide(total[0], total[2], zd)
    micro_f = _f1(micro_p.copy(), micro_r.copy())
    support = int(total[2][0])
    out: dict[str, Any] = {
        "micro": {
            "precision": float(micro_p[0]),
            "recall": float(micro_r[0]),
            "f1": float(micro_f[0]),
            "support": support,
            "predicted": int(total[1][0]),
            "true_positives": int(total[0][0]),
        }
    }
    if present:
        out["macro"] = {
            "precision": float(np.average(precision)),
            "recall": float(np.average(recall)),
            "f1": float(np.average(f1)),
            "support": support,
        }
    else:
        out["macro"] = {"precision": zd, "recall": zd, "f1": zd, "support": 0}
    if support == 0:  # seqeval's special case of an all-zero weight vector
        nothing_predicted = int(total[1][0]) == 0
        out["weighted"] = {
            "precision": zd if nothing_predicted else 0.0,
            "recall": zd,
            "f1": zd if nothing_predicted else 0.0,
            "support": 0,
        }
    else:
        out["weighted"] = {
            "precision": float(np.average(precision, weights=n_true)),
            "recall": float(np.average(recall, weights=n_true)),
            "f1": float(np.average(f1, weights=n_true)),
            "support": support,
        }
    out["per_type"] = per_type
    return out


def bio_precision_score(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    *,
    mode: Mode = "default",
    scheme: str | None = None,
    average: Average = "micro",
    zero_division: float = 0.0,
) -> float:
    """Entity precision ``TP / predicted`` (``average``: micro, macro or weighted)."""
    return _pick(y_true, y_pred, mode, scheme, average, zero_division, "precision")


def bio_recall_score(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    *,
    mode: Mode = "default",
    scheme: str | None = None,
    average: Average = "micro",
    zero_division: float = 0.0,
) -> float:
    """Entity recall ``TP / support`` (``average``: micro, macro or weighted)."""
    return _pick(y_true, y_pred, mode, scheme, average, zero_division, "recall")


def bio_f1_score(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    *,
    mode: Mode = "default",
    scheme: str | None = None,
    average: Average = "micro",
    zero_division: float = 0.0,
) -> float:
    """Entity F1 ``2PR / (P + R)`` (``average``: micro, macro or weighted)."""
    return _pick(y_true, y_pred, mode, scheme, average, zero_division, "f1")


def _pick(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    mode: Mode,
    scheme: str | None,
    average: Average,
    zero_division: float,
    key: str,
) -> float:
    if average not in ("micro", "macro", "weighted"):
        raise ValueError(f"average must be 'micro', 'macro' or 'weighted', got {average!r}")
    scores = bio_scores(y_true, y_pred, mode=mode, scheme=scheme, zero_division=zero_division)
    score: float = scores[average][key]
    return score
