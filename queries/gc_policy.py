"""Garbage-collector policy for a process that serves queries.

Why: a query process holds large long-lived caches (the hierarchy, the name index, source
references, claim rows). CPython's full collection walks every tracked object, and at scale
1 it took 200-330 ms; it fired every few dozen accountability answers (each allocates tens
of thousands of short-lived containers), and it was the whole of their p95. Two measures:

- ``settle()`` after the caches are built: collect once, then move everything alive to the
  permanent generation (``gc.freeze``), which no later collection walks;
- a higher threshold for the oldest generation, so full collections (which still walk the
  caches filled lazily afterwards) are rare. The answers hold no reference cycles, so
  nothing waits longer to be freed than it would have; young collections run as before.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 100  # second-generation collections between full ones (CPython: 10)


def settle() -> None:
    """Freeze what is alive now (caches just built) and make full collections rare."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
