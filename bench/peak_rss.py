"""Run a Python script and record its own peak resident memory (``VmHWM``) when it exits.

``python bench/peak_rss.py OUT_FILE script.py args…``. The kernel's ``ru_maxrss`` of a child is no
use here: it keeps the high-water mark of the address space the child was forked from (the bench
process, which holds the data set), so the figure is read from /proc instead, which counts only
the memory of the program after exec.
"""

from __future__ import annotations

import atexit
import os
import runpy
import sys


def _record(path: str) -> None:
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(path, "w") as out:
        out.write(str(kib))


if __name__ == "__main__":
    atexit.register(_record, sys.argv[1])
    sys.argv = sys.argv[2:]
    sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))  # the script's folder, as python would
    runpy.run_path(sys.argv[0], run_name="__main__")
