"""What a benchmark ran on, and its figures as ratios that a change of machine leaves alone.

Absolute seconds differ by 3x and more between CPUs (the same code took 0.24 s on one 2-core
machine and 0.88 s on another), so every benchmark states its targets as ratios of two figures
measured in the same run, and prints the machine beside its absolute figures.

Examples
--------
>>> "cores" in machine_line()
True
>>> ratio_line("5-min ÷ 30 s analysis", 7.5, 10.0).split()[-4:]
['target', '≤', '10.00x', 'met']
>>> ratio_line("naive ÷ fast", 6.0, 8.0, at_most=False).split()[-1]
'MISSED'
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of ``/proc/cpuinfo`` (what ``lscpu`` shows); empty elsewhere."""
    path = Path("/proc/cpuinfo")
    if not path.exists():
        return {}
    fields: dict[str, str] = {}
    for line in path.read_text(errors="replace").split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def cpu_model() -> str:
    """The CPU's model name, or the platform's guess where ``/proc/cpuinfo`` is absent."""
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def _widest_simd() -> str:
    """The widest x86 vector extension the CPU reports (the kernels numpy, BLAS and oneDNN pick)."""
    flags = set(_cpuinfo().get("flags", "").split())
    return next((f for f in ("avx512f", "avx2", "avx", "sse4_2") if f in flags), platform.machine())


def machine_line() -> str:
    """One line naming the CPU model, its widest SIMD extension and the cores this process may use."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"CPU: {cpu_model()} ({_widest_simd()}), {usable} cores usable of {os.cpu_count()}"


def ratio_line(name: str, ratio: float, target: float | None = None, at_most: bool = True) -> str:
    """One aligned line: a ratio, its target (``≤`` when ``at_most``, else ``≥``) and whether it is met."""
    text = f"  {name:<50} {ratio:6.2f}x"
    if target is None:
        return text
    met = ratio <= target if at_most else ratio >= target
    return f"{text}   target {'≤' if at_most else '≥'} {target:.2f}x   {'met' if met else 'MISSED'}"
