"""Story clusters: a 64-bit simhash of each article's text, so syndicated and lightly edited copies share a cluster.

`simhash` hashes word shingles of the folded text (so a copy without diacritics or with other quotes is the same
text) and returns a signed 64-bit integer, the range SQLite's INTEGER can store. `assign_cluster` puts a new
clipping into the cluster of the nearest earlier clipping within `max_distance` differing bits, or starts a new
cluster named after itself (the first copy's id is the cluster id, see records.Clipping).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from presswatch.enrich.text import WORD_RE, fold

SHINGLE = 2  # words per shingle: bigrams separate edited copies from unrelated stories best on news-length texts
MAX_DISTANCE = 10  # bits; measured on the newsroom: edited wire copies 2-5 apart, unrelated articles 18 and more
_MASK = (1 << 64) - 1


def _shingles(words: Sequence[str]) -> Iterable[str]:
    if len(words) < SHINGLE:
        yield " ".join(words)
        return
    for i in range(len(words) - SHINGLE + 1):
        yield " ".join(words[i : i + SHINGLE])


def _signed(value: int) -> int:
    value &= _MASK
    return value - (1 << 64) if value >= 1 << 63 else value


def simhash(text: str) -> int:
    """64-bit simhash of `text` as a signed integer (0 for text without words)."""
    words = WORD_RE.findall(fold(text))
    if not words:
        return 0
    digests = b"".join(hashlib.blake2b(sh.encode("utf-8"), digest_size=8).digest() for sh in _shingles(words))
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 8), axis=1, bitorder="big")
    # column j is bit 63 - j of the big-endian 64-bit value; a bit is set where most shingles set it
    ones = bits.sum(axis=0, dtype=np.int64)
    majority = ones * 2 > bits.shape[0]
    value = 0
    for j in np.flatnonzero(majority):
        value |= 1 << (63 - int(j))
    return _signed(value)


def content_hash(text: str, min_chars: int = 0, title: str = "") -> str | None:
    """The identity of an exact copy: SHA-256 of the folded words of `text` (case, diacritics, punctuation and
    spacing do not count, as a print version or a re-encoded page differs only there). A leading repeat of
    `title` is left out: extraction keeps the page's <h1> in the text on some layouts and not on others. None for
    a text shorter than `min_chars` characters: two teasers with the same lead are not the same article."""
    if len(text.strip()) < max(min_chars, 1):
        return None
    words = WORD_RE.findall(fold(text))
    heading = WORD_RE.findall(fold(title))
    if heading and words[: len(heading)] == heading and len(words) > len(heading):
        words = words[len(heading):]
    if not words:
        return None
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two fingerprints (signed or unsigned)."""
    return ((a ^ b) & _MASK).bit_count()


def assign_cluster(clipping_id: str, fingerprint: int, candidates: Sequence[tuple[str, str | None, int]],
                   max_distance: int = MAX_DISTANCE) -> str:
    """The cluster for a new clipping: that of the nearest candidate (clip_id, cluster_id, fingerprint) within
    `max_distance` bits, else a new cluster named after the clipping itself. Ties go to the earlier candidate."""
    best: tuple[int, int] | None = None
    chosen = clipping_id
    for n, (clip_id, cluster_id, fp) in enumerate(candidates):
        if clip_id == clipping_id:
            continue
        d = hamming(fingerprint, fp)
        if d <= max_distance and (best is None or (d, n) < best):
            best = (d, n)
            chosen = cluster_id or clip_id
    return chosen
