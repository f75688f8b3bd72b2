"""Offline keyboard (pinyin IME) and speech (ASR) noise simulators, in the pinyin domain (spec §11).

No Mandarin ASR model can be run offline from packaged resources, so both channels are simulated on syllables:

**keyboard** (per jieba word, probability ``rate``; one operation chosen by ``weights``):

- ``candidate``: the IME's wrong candidate -- another word (or, failing that, a character) with the same *toneless*
  pinyin, drawn from the top ``top_k`` by frequency (rank r weighted 1/r);
- ``merge``: two syllables typed without a separator that concatenate to one valid syllable become one character of
  that syllable (提额 ti'e -> tie -> 贴); ``split``: one syllable read as two (xian -> xi'an -> 西安);
- ``typo``: one QWERTY-neighbour / T9 same-key substitution, an insertion, deletion or transposition in the typed
  letters, kept only if the letters re-segment into valid syllables, then decoded as the IME would;
- ``drop`` / ``duplicate`` a character (rare);
- optional (weight 0 unless asked for; the ``correct`` extra): ``confusion`` -- a character replaced from
  pycorrector's SIGHAN same-pinyin confusion set -- and ``shape`` -- from its same-stroke set (stroke / Wubi input),
  see :mod:`readin.confusion`.

**speech** (per syllable, probability ``rate``): a tone swap (2<->3 and 1<->4 most often) or, where the speaker
profile has one, an initial/final confusion (z/zh, n/l, in/ing, ...); the changed word is then re-decoded like an
ASR language model would, preferring an in-vocabulary word with exactly the perturbed pinyin, else a frequent
character of the perturbed syllable. Three profiles stand for READIN's three annotators.

Every change is logged as an :class:`Edit` on the original text (``apply_edits(text, edits) == noisy``). Non-Chinese
characters are never touched. Seeded: the same ``(text, seed)`` always gives the same output.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from readin.pinyin import Tables, get_tables, is_han, segment, split_syllable, tone_of, toneless, word_pinyin

__all__ = [
    "Edit",
    "KeyboardConfig",
    "SpeechConfig",
    "Profile",
    "PROFILES",
    "keyboard_noise",
    "speech_noise",
    "apply_edits",
    "within_confusion",
    "tokenize",
    "noise_text",
    "VERSION_PROFILES",
    "analyse",
    "PYCORRECTOR_WEIGHTS",
]


@dataclass(frozen=True)
class Edit:
    """One change: ``text[start:end]`` (``src``) became ``dst`` by ``op``; pinyin joined with ``'``."""

    op: str
    start: int
    end: int
    src: str
    dst: str
    src_pinyin: str
    dst_pinyin: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Rebuild the noisy text from the original and its (non-overlapping) edits."""
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: e.start):
        if e.start < pos or text[e.start : e.end] != e.src:
            raise ValueError(f"edit {e} does not fit the text at {e.start}")
        out.append(text[pos : e.start])
        out.append(e.dst)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def tokenize(text: str) -> list[str]:
    """jieba words (the unit an IME user types and an ASR decoder outputs)."""
    import jieba

    return jieba.lcut(text, HMM=False)


@functools.lru_cache(maxsize=8192)
def analyse(text: str) -> tuple[tuple[tuple[int, int], ...], tuple[str | None, ...]]:
    """The Chinese words of ``text`` as ``(start, end)`` spans and each character's ``TONE3`` reading (None off words).

    Cached per text: ``readin noise`` simulates 3 keyboard + 3 speech versions (and the realism statistics) of the
    same field, so jieba and pypinyin run once per text instead of six or more times.
    """
    words: list[tuple[int, int]] = []
    py: list[str | None] = [None] * len(text)
    pos = 0
    for w in tokenize(text):
        if is_han(w):
            py[pos : pos + len(w)] = word_pinyin(w)
            words.append((pos, pos + len(w)))
        pos += len(w)
    return tuple(words), tuple(py)


@functools.lru_cache(maxsize=64)
def _rank_weights(n: int) -> list[float]:
    """Cumulative weights 1, 1/2, ..., 1/n (what ``random.choices(weights=...)`` would accumulate)."""
    return list(itertools.accumulate(1.0 / (r + 1) for r in range(n)))


def _pick(rng: random.Random, cands: Sequence[str]) -> str:
    """Rank r drawn with weight 1/r (the first candidate most often)."""
    if len(cands) == 1:
        return cands[0]
    return rng.choices(cands, cum_weights=_rank_weights(len(cands)))[0]


# ---- keyboard ---------------------------------------------------------------------------------------------------

_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_T9 = ("abc", "def", "ghi", "jkl", "mno", "pqrs", "tuv", "wxyz")


def _qwerty_neighbours() -> dict[str, str]:
    pos = {ch: (r, c) for r, row in enumerate(_QWERTY_ROWS) for c, ch in enumerate(row)}
    out = {}
    for ch, (r, c) in pos.items():
        out[ch] = "".join(o for o, (r2, c2) in pos.items() if o != ch and abs(r2 - r) <= 1 and abs(c2 - c) <= 1)
    return out


QWERTY_NEIGHBOURS = _qwerty_neighbours()
T9_SAME_KEY = {ch: key.replace(ch, "") for key in _T9 for ch in key}


@dataclass(kw_only=True)
class KeyboardConfig:
    """Keyboard channel settings.

    Args:
        rate: probability that a Chinese word gets one operation.
        weights: relative weights of the operations (``confusion`` / ``shape``: pycorrector's confusion sets,
            off by default; a positive weight needs the ``correct`` extra).
        top_k: candidate list length an IME slip draws from.
        t9_share: share of letter substitutions that use the T9 same-key map instead of QWERTY neighbours.
    """

    rate: float = 0.15
    weights: dict[str, float] = field(
        default_factory=lambda: {"candidate": 0.6, "merge": 0.08, "split": 0.04, "typo": 0.2, "drop": 0.05, "duplicate": 0.03}
    )
    top_k: int = 5
    t9_share: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be in [0, 1], got {self.rate}")
        unknown = set(self.weights) - set(_KB_OPS)
        if unknown:
            raise ValueError(f"unknown keyboard operations: {sorted(unknown)}")
        if not any(w > 0 for w in self.weights.values()):
            raise ValueError("at least one keyboard operation needs a positive weight")
        if self.weights.get("confusion", 0) > 0 or self.weights.get("shape", 0) > 0:
            from readin.confusion import load_pycorrector_confusion

            load_pycorrector_confusion()  # fail now, with the extra to install, rather than mid-run


def _join(syls: Sequence[str]) -> str:
    return "'".join(syls)


class _Text:
    """A text with per-character readings, jieba words and an edit list (no overlapping edits)."""

    def __init__(self, text: str, protect: Sequence[tuple[int, int]] = ()):
        self.text = text
        self.words, self.py = analyse(text)
        self.busy = [False] * len(text)
        for a, b in protect:
            for k in range(max(a, 0), min(b, len(text))):
                self.busy[k] = True
        self.edits: list[Edit] = []

    def free(self, start: int, end: int) -> bool:
        return end <= len(self.text) and True not in self.busy[start:end] and None not in self.py[start:end]

    def add(self, op: str, start: int, end: int, dst: str, src_py: str, dst_py: str) -> bool:
        src = self.text[start:end]
        if dst == src or not self.free(start, end):
            return False
        for k in range(start, end):
            self.busy[k] = True
        self.edits.append(Edit(op, start, end, src, dst, src_py, dst_py))
        return True


def _kb_candidate(t: _Text, tab: Tables, s: int, e: int, rng: random.Random, cfg: KeyboardConfig) -> bool:
    syls = [toneless(p) for p in t.py[s:e]]  # type: ignore[arg-type]
    word = t.text[s:e]
    if e - s >= 2:
        cands = tab.top(tab.words_toneless.get(tuple(syls)), word, cfg.top_k)
        if cands:
            dst = _pick(rng, cands)
            return t.add("candidate", s, e, dst, _join(syls), _join(syls))
    order = list(range(s, e))
    rng.shuffle(order)
    for k in order:
        syl = toneless(t.py[k])  # type: ignore[arg-type]
        cands = tab.top(tab.by_toneless.get(syl), t.text[k], cfg.top_k)
        if cands:
            return t.add("candidate", k, k + 1, _pick(rng, cands), syl, syl)
    return False


def _kb_merge(t: _Text, tab: Tables, s: int, e: int, rng: random.Random, cfg: KeyboardConfig) -> bool:
    # the pair may cross into the next word (提 + 额 are often two jieba words)
    pairs = []
    for k in range(s, e):
        if k + 1 < len(t.text) and t.free(k, k + 2):
            merged = toneless(t.py[k]) + toneless(t.py[k + 1])  # type: ignore[arg-type]
            if merged in tab.syllables:
                pairs.append((k, merged))
    if not pairs:
        return False
    k, merged = rng.choice(pairs)
    src_py = _join([toneless(t.py[k]), toneless(t.py[k + 1])])  # type: ignore[arg-type]
    return t.add("merge", k, k + 2, _pick(rng, tab.by_toneless[merged][: cfg.top_k]), src_py, merged)


def _kb_split(t: _Text, tab: Tables, s: int, e: int, rng: random.Random, cfg: KeyboardConfig) -> bool:
    opts = []
    for k in range(s, e):
        syl = toneless(t.py[k])  # type: ignore[arg-type]
        for cut in range(1, len(syl)):
            a, b = syl[:cut], syl[cut:]
            if a in tab.syllables and b in tab.syllables:
                opts.append((k, a, b))
    if not opts:
        return False
    k, a, b = rng.choice(opts)
    dst = tab.top(tab.words_toneless.get((a, b)), "", cfg.top_k)
    text = _pick(rng, dst) if dst else tab.by_toneless[a][0] + tab.by_toneless[b][0]
    return t.add("split", k, k + 1, text, a + b, _join([a, b]))


def _typo_letters(letters: str, rng: random.Random, cfg: KeyboardConfig) -> str:
    i = rng.randrange(len(letters))
    kind = rng.choices(("sub", "ins", "del", "swap"), weights=(0.5, 0.2, 0.2, 0.1))[0]
    ch = letters[i]
    table = T9_SAME_KEY if rng.random() < cfg.t9_share else QWERTY_NEIGHBOURS
    near = table.get(ch) or QWERTY_NEIGHBOURS.get(ch, "")
    if kind == "sub" and near:
        return letters[:i] + rng.choice(near) + letters[i + 1 :]
    if kind == "ins" and near:
        return letters[: i + 1] + rng.choice(near) + letters[i + 1 :]
    if kind == "del" and len(letters) > 1:
        return letters[:i] + letters[i + 1 :]
    if kind == "swap" and i + 1 < len(letters):
        return letters[:i] + letters[i + 1] + letters[i] + letters[i + 2 :]
    return letters


def _kb_typo(t: _Text, tab: Tables, s: int, e: int, rng: random.Random, cfg: KeyboardConfig) -> bool:
    syls = [toneless(p) for p in t.py[s:e]]  # type: ignore[arg-type]
    letters = "".join(syls)
    for _ in range(4):
        typed = _typo_letters(letters, rng, cfg)
        if typed == letters:
            continue
        segs = segment(typed, tab.syllables)
        if not segs or segs == syls:
            continue
        words = tab.top(tab.words_toneless.get(tuple(segs)), t.text[s:e], cfg.top_k) if len(segs) >= 2 else []
        dst = _pick(rng, words) if words else "".join(_pick(rng, tab.by_toneless[x][: cfg.top_k]) for x in segs)
        if t.add("typo", s, e, dst, _join(syls), _join(segs)):
            return True
    return False


def _kb_drop(t: _Text, tab: Tables, s: int, e: int, rng: random.Random, cfg: KeyboardConfig) -> bool:
    k = rng.randrange(s, e)
    return t.add("drop", k, k + 1, "", toneless(t.py[k]), "")  # type: ignore[arg-type]


def _kb_duplicate(t: _Text, tab: Tables, s: int, e: int, rng: random.Random, cfg: KeyboardConfig) -> bool:
    k = rng.randrange(s, e)
    syl = toneless(t.py[k])  # type: ignore[arg-type]
    return t.add("duplicate", k, k + 1, t.text[k] * 2, syl, _join([syl, syl]))


def _kb_from_set(op: str, t: _Text, tab: Tables, s: int, e: int, rng: random.Random, cfg: KeyboardConfig) -> bool:
    from readin.confusion import load_pycorrector_confusion

    sets = load_pycorrector_confusion()
    order = list(range(s, e))
    rng.shuffle(order)
    for k in order:
        ch = t.text[k]
        pool = sets.pinyin(ch) if op == "confusion" else sets.shape.get(ch, "")
        # common characters only (an IME's first page), most frequent first
        cands = sorted((c for c in pool if tab.freq.get(c, 0) >= 50 and c in tab.readings), key=lambda c: -tab.freq[c])
        if cands:
            dst = _pick(rng, cands[: cfg.top_k])
            return t.add(op, k, k + 1, dst, toneless(t.py[k]), toneless(tab.readings[dst][0]))  # type: ignore[arg-type]
    return False


def _kb_confusion(t: _Text, tab: Tables, s: int, e: int, rng: random.Random, cfg: KeyboardConfig) -> bool:
    return _kb_from_set("confusion", t, tab, s, e, rng, cfg)


def _kb_shape(t: _Text, tab: Tables, s: int, e: int, rng: random.Random, cfg: KeyboardConfig) -> bool:
    return _kb_from_set("shape", t, tab, s, e, rng, cfg)


_KB_OPS = {
    "candidate": _kb_candidate,
    "merge": _kb_merge,
    "split": _kb_split,
    "typo": _kb_typo,
    "drop": _kb_drop,
    "duplicate": _kb_duplicate,
    "confusion": _kb_confusion,
    "shape": _kb_shape,
}
#: keyboard weights with pycorrector's confusion sets switched on (``readin noise --pycorrector``)
PYCORRECTOR_WEIGHTS = {"confusion": 0.15, "shape": 0.03}


def _rng(seed: int | str | random.Random) -> random.Random:
    return seed if isinstance(seed, random.Random) else random.Random(str(seed))


def keyboard_noise(
    text: str,
    seed: int | str | random.Random = 0,
    config: KeyboardConfig | None = None,
    protect: Sequence[tuple[int, int]] = (),
) -> tuple[str, list[Edit]]:
    """Simulate re-typing ``text`` with a pinyin IME. Returns ``(noisy_text, edits)``.

    ``protect``: ``[start, end)`` character spans left untouched (e.g. values a SQL query must match).
    """
    cfg = config or KeyboardConfig()
    if cfg.rate == 0 or not text:
        return text, []
    rng = _rng(seed)
    tab = get_tables()
    t = _Text(text, protect)
    ops = [op for op, w in cfg.weights.items() if w > 0]
    cum = list(itertools.accumulate(cfg.weights[op] for op in ops))
    for s, e in t.words:
        if rng.random() >= cfg.rate or not t.free(s, e):
            continue
        op = rng.choices(ops, cum_weights=cum)[0]
        if not _KB_OPS[op](t, tab, s, e, rng, cfg) and op != "candidate" and cfg.weights.get("candidate", 0) > 0:
            _kb_candidate(t, tab, s, e, rng, cfg)
    edits = sorted(t.edits, key=lambda x: x.start)
    return apply_edits(text, edits), edits


# ---- speech -----------------------------------------------------------------------------------------------------

#: tone -> {new tone: weight}; 2<->3 and 1<->4 dominate
TONE_SWAPS: dict[int, dict[int, float]] = {
    1: {4: 0.5, 2: 0.25, 3: 0.25},
    2: {3: 0.6, 1: 0.2, 4: 0.2},
    3: {2: 0.6, 4: 0.2, 1: 0.2},
    4: {1: 0.5, 3: 0.25, 2: 0.25},
    5: {1: 0.25, 2: 0.25, 3: 0.25, 4: 0.25},
}


@dataclass(frozen=True, kw_only=True)
class Profile:
    """A simulated speaker: which initial/final pairs they merge, and how often a confusion beats a tone slip."""

    name: str
    initials: tuple[tuple[str, str], ...] = ()
    finals: tuple[tuple[str, str], ...] = ()
    confusion_share: float = 0.5

    def initial_map(self) -> dict[str, list[str]]:
        return _pairs(self.initials)

    def final_map(self) -> dict[str, list[str]]:
        return _pairs(self.finals)


def _pairs(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a, b in pairs:
        out.setdefault(a, []).append(b)
        out.setdefault(b, []).append(a)
    return out


_NASALS = (("in", "ing"), ("en", "eng"))
PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(name="standard", finals=_NASALS, confusion_share=0.25),
        Profile(
            name="southern",
            initials=(("z", "zh"), ("c", "ch"), ("s", "sh"), ("n", "l"), ("f", "h")),
            finals=_NASALS + (("an", "ang"), ("ian", "iang")),
            confusion_share=0.6,
        ),
        Profile(
            name="southwestern",
            initials=(("n", "l"), ("f", "h"), ("r", "l")),
            finals=_NASALS + (("uan", "uang"),),
            confusion_share=0.5,
        ),
    )
}
#: the profile behind each of the three versions (READIN's three annotators)
VERSION_PROFILES = ("standard", "southern", "southwestern")


@dataclass(kw_only=True)
class SpeechConfig:
    """Speech channel settings.

    Args:
        rate: probability that a syllable is misheard.
        profile: a :data:`PROFILES` name.
        top_k: candidates the re-decoder draws from.
    """

    rate: float = 0.15
    profile: str = "standard"
    top_k: int = 3

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be in [0, 1], got {self.rate}")
        if self.profile not in PROFILES:
            raise ValueError(f"unknown speaker profile {self.profile!r}; known: {', '.join(PROFILES)}")


@functools.lru_cache(maxsize=65536)
def _confusions(syl: str, profile_name: str) -> tuple[tuple[str, str], ...]:
    """(kind, new TONE3 syllable) segmental confusions of ``syl`` that exist as characters (cached)."""
    tab, profile = get_tables(), PROFILES[profile_name]
    base, tone = toneless(syl), tone_of(syl)
    ini, fin = split_syllable(base)
    out = []
    for new in profile.initial_map().get(ini, []):
        cand = f"{new}{fin}{tone}"
        if cand in tab.by_tone3:
            out.append(("initial", cand))
    for new in profile.final_map().get(fin, []):
        cand = f"{ini}{new}{tone}"
        if cand in tab.by_tone3:
            out.append(("final", cand))
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def _tone_swaps(syl: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """(new TONE3 syllables, cumulative weights) of the tone slips of ``syl`` that exist as characters (cached)."""
    tab = get_tables()
    base, tone = toneless(syl), tone_of(syl)
    pairs = [(f"{base}{t}", w) for t, w in TONE_SWAPS[tone].items() if f"{base}{t}" in tab.by_tone3]
    return tuple(x for x, _ in pairs), tuple(itertools.accumulate(w for _, w in pairs))


def within_confusion(src: str, dst: str, profile: Profile | str) -> bool:
    """Whether TONE3 syllable ``dst`` is ``src`` or one confusion away from it (tone, initial or final swap)."""
    profile = PROFILES[profile] if isinstance(profile, str) else profile
    if src == dst:
        return True
    a, b = toneless(src), toneless(dst)
    if a == b:
        return True  # tone only
    if tone_of(src) != tone_of(dst):
        return False
    (ia, fa), (ib, fb) = split_syllable(a), split_syllable(b)
    if fa == fb and ib in profile.initial_map().get(ia, []):
        return True
    return ia == ib and fb in profile.final_map().get(fa, [])


def speech_noise(
    text: str,
    seed: int | str | random.Random = 0,
    config: SpeechConfig | None = None,
    protect: Sequence[tuple[int, int]] = (),
) -> tuple[str, list[Edit]]:
    """Simulate reading ``text`` aloud to an ASR system (one speaker profile). Returns ``(noisy_text, edits)``.

    ``protect``: ``[start, end)`` character spans left untouched.
    """
    cfg = config or SpeechConfig()
    if cfg.rate == 0 or not text:
        return text, []
    rng = _rng(f"{seed}:{cfg.profile}") if not isinstance(seed, random.Random) else seed
    tab = get_tables()
    profile = PROFILES[cfg.profile]
    t = _Text(text, protect)
    for s, e in t.words:
        if not t.free(s, e):
            continue
        syls = list(t.py[s:e])
        new = list(syls)
        kinds = []
        for k, syl in enumerate(syls):
            if rng.random() >= cfg.rate:
                continue
            conf = _confusions(syl, profile.name)  # type: ignore[arg-type]
            if conf and rng.random() < profile.confusion_share:
                kind, new[k] = rng.choice(conf)
            else:
                swaps, cum = _tone_swaps(syl)  # type: ignore[arg-type]
                if not swaps:
                    continue
                kind = "tone"
                new[k] = rng.choices(swaps, cum_weights=cum)[0]
            kinds.append(kind)
        if not kinds:
            continue
        word = t.text[s:e]
        op = "+".join(dict.fromkeys(kinds))
        cands = tab.top(tab.words_tone3.get(tuple(new)), word, cfg.top_k) if len(new) >= 2 else []  # type: ignore[arg-type]
        if cands:
            dst = _pick(rng, cands)
        else:
            chars = []
            for k, syl in enumerate(new):
                if syl == syls[k]:
                    chars.append(word[k])
                else:
                    chars.append(_pick(rng, tab.by_tone3[syl][: cfg.top_k]))  # type: ignore[index]
            dst = "".join(chars)
        t.add(op, s, e, dst, _join(syls), _join(new))  # type: ignore[arg-type]
    edits = sorted(t.edits, key=lambda x: x.start)
    return apply_edits(text, edits), edits


def noise_text(
    text: str,
    channel: str,
    seed: int | str,
    config: KeyboardConfig | SpeechConfig | Mapping[str, Any] | None = None,
    protect: Sequence[tuple[int, int]] = (),
) -> tuple[str, list[Edit]]:
    """Dispatch to :func:`keyboard_noise` (``keyboard``) or :func:`speech_noise` (``asr``/``speech``)."""
    from readin.tasks import canonical_noise

    channel = canonical_noise(channel)
    if isinstance(config, Mapping):
        config = (KeyboardConfig if channel == "keyboard" else SpeechConfig)(**config)
    if channel == "keyboard":
        return keyboard_noise(text, seed, config, protect)  # type: ignore[arg-type]
    return speech_noise(text, seed, config, protect)  # type: ignore[arg-type]
