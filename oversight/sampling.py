"""Seeded random samples of student records (抽查样本), the same on every database.

Each candidate id gets a rank: SplitMix64's output function applied to the id plus a 64-bit key
derived from the seed (BLAKE2b of the seed). SplitMix64 (Steele, Lea & Flood, "Fast splittable
pseudorandom number generators", OOPSLA 2014) mixes every input bit into every output bit, so the
ranks behave like independent random numbers per seed. The sample is the ``size`` candidates
with the smallest ranks. So the same seed over the same records always draws the same sample,
whatever order the database returns rows in, on SQLite and PostgreSQL alike; and a record added
or removed later changes at most one member of the sample, not all of them (unlike shuffling a
list with random.Random). It is about twice as fast as hashing each id with BLAKE2b.

Candidates are read as bare ids in chunks (``values_list(...).iterator``) and only the best
``size`` are kept, so memory stays small for a million records; time measured in tests/oversight/test_sampling.py and
bench/README.md.
"""

import hashlib
import heapq
import math
import secrets
from decimal import Decimal

from django.db.models import QuerySet

CHUNK = 20_000
MAX_SAMPLE = 5_000


def new_seed() -> str:
    """A fresh random seed: 12 hexadecimal characters, to be shown and stored with the sample."""
    return secrets.token_hex(6)


_MASK = (1 << 64) - 1


def seed_key(seed: str) -> int:
    """The 64-bit key of ``seed`` (any text): the first 8 bytes of its BLAKE2b digest."""
    return int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=8).digest(), "big")


def rank(key: int, pk: int) -> int:
    """The rank (an unsigned 64-bit integer) of record ``pk`` under a seed's ``key`` (SplitMix64)."""
    z = (pk * 0x9E3779B97F4A7C15 + key) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def sample_size(population: int, *, size: int | None = None, percent: Decimal | None = None) -> int:
    """How many records to draw: ``size`` (at most the population) or ``percent`` per cent of the
    population rounded up (at least one when there is anyone). Exactly one of the two is given."""
    if size is not None:
        return min(size, population)
    wanted = math.ceil(Decimal(population) * Decimal(percent) / 100)
    return min(max(wanted, 1 if population else 0), population)


def draw(candidates: QuerySet, seed: str, *, size: int | None = None,
         percent: Decimal | None = None) -> tuple[int, list[int]]:
    """Draw a sample of primary keys from ``candidates`` (any queryset of the records to sample).

    Returns ``(population, ids)``: how many candidates there were and the chosen primary keys in
    drawn order (smallest rank first). Two queries: a count, then the ids streamed in chunks of
    ``CHUNK``; only the ``k`` best (rank, id) pairs are kept in memory.
    """
    candidates = candidates.order_by()
    population = candidates.count()
    k = sample_size(population, size=size, percent=percent)
    if k == 0:
        return population, []
    key = seed_key(seed)
    # nsmallest keeps only k pairs in memory while the ids stream past.
    ids = candidates.values_list("pk", flat=True).iterator(chunk_size=CHUNK)
    return population, [pk for _, pk in heapq.nsmallest(k, ((rank(key, pk), pk) for pk in ids))]
