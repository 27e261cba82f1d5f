"""What an object graph holds in memory, for the memory benchmarks' breakdowns.

``deep_bytes`` walks containers, slotted and plain objects, numpy arrays (an array's buffer
counted once, at its owner; a memory-mapped buffer counted apart, as it is the page cache's,
not the heap's) and scipy sparse matrices. ``breakdown`` gives one line per attribute of an
object, so a figure says which part of the engine or the read model holds the bytes.
"""

from __future__ import annotations

import mmap
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(slots=True)
class Tally:
    heap: int = 0  # bytes private to this process (Python objects, numpy buffers)
    mapped: int = 0  # bytes of read-only memory-mapped buffers (shared through the page cache)
    seen: set[int] = field(default_factory=set)


def _slots(obj: object) -> list[str]:
    names: list[str] = []
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return [n for n in names if n not in ("__dict__", "__weakref__")]


def _array(a: np.ndarray, tally: Tally) -> None:
    owner: Any = a
    while True:  # an unpickled array's buffer is a memoryview of a bytearray, a mapped one an mmap
        if isinstance(owner, np.ndarray) and owner.base is not None:
            owner = owner.base
        elif isinstance(owner, memoryview) and owner.obj is not None:
            owner = owner.obj
        else:
            break
    if id(owner) in tally.seen:
        return
    tally.seen.add(id(owner))
    if isinstance(owner, mmap.mmap):
        tally.mapped += len(owner)
    elif isinstance(owner, np.ndarray):
        tally.heap += (
            owner.nbytes + sys.getsizeof(owner) - (owner.nbytes if owner.flags.owndata else 0)
        )
    else:  # bytes, bytearray or another buffer
        tally.heap += sys.getsizeof(owner) if isinstance(owner, bytes | bytearray) else a.nbytes


def walk(obj: Any, tally: Tally) -> None:
    stack = [obj]
    while stack:
        o = stack.pop()
        if o is None or isinstance(o, bool | type) or id(o) in tally.seen:
            continue
        if isinstance(o, np.ndarray):
            _array(o, tally)
            continue
        tally.seen.add(id(o))
        tally.heap += sys.getsizeof(o)
        if isinstance(o, str | bytes | int | float | complex):
            continue
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, list | tuple | set | frozenset):
            stack.extend(o)
        else:
            if hasattr(o, "__dict__"):
                stack.append(vars(o))
            stack.extend(getattr(o, name, None) for name in _slots(o))


def deep_bytes(obj: Any) -> tuple[int, int]:
    """(heap bytes, memory-mapped bytes) reachable from ``obj``."""
    tally = Tally()
    walk(obj, tally)
    return tally.heap, tally.mapped


def breakdown(obj: Any, depth: int = 1, prefix: str = "") -> dict[str, int]:
    """MiB-free byte counts per attribute (and per attribute of those, to ``depth``); an
    object reached from two attributes counts at the first."""
    tally = Tally()
    out: dict[str, int] = {}
    _breakdown(obj, depth, prefix, tally, out)
    return out


def _attributes(obj: Any) -> list[tuple[str, Any]]:
    names = _slots(obj) + list(getattr(obj, "__dict__", {}))
    return [(n, getattr(obj, n, None)) for n in names]


def _breakdown(obj: Any, depth: int, prefix: str, tally: Tally, out: dict[str, int]) -> None:
    for name, value in _attributes(obj):
        key = f"{prefix}{name}"
        if depth > 0 and _attributes(value) and not isinstance(value, np.ndarray | dict):
            _breakdown(value, depth - 1, key + ".", tally, out)
            continue
        heap, mapped = tally.heap, tally.mapped
        walk(value, tally)
        out[key] = tally.heap - heap
        if tally.mapped > mapped:
            out[key + " (mapped)"] = tally.mapped - mapped


def smaps_rollup(pid: int | str = "self") -> dict[str, int]:
    """Rss, Pss, shared and private bytes of a process (Linux), from /proc/<pid>/smaps_rollup."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key.strip()] = int(parts[0]) * 1024
    return out
