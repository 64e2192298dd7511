"""Thread pools per process: a forked worker makes its own (a pool's threads do not survive a fork)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

_pools: dict[tuple[str, int], ThreadPoolExecutor] = {}


def process_pool(name: str, threads: int) -> ThreadPoolExecutor:
    """This process's pool called `name`, made on first use."""
    key = (name, os.getpid())
    pool = _pools.get(key)
    if pool is None:
        pool = _pools.setdefault(key, ThreadPoolExecutor(threads, thread_name_prefix=name))
    return pool
