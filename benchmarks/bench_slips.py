"""The slip report: per notebook, how many known slips are catalogued and how many get their own words.

    python benchmarks/run_all.py slips      (or: python benchmarks/bench_slips.py)

Every slip of backprop.checks is run through its exercise's visible check. "named" means the
diagnosis contains the slip's words; "vague" counts diagnoses that still say "No simple pattern".
"""
from __future__ import annotations

from collections import defaultdict

from _table import print_table

from backprop.checks.catalogue import exercises, run_catalogue


def main() -> None:
    counts = defaultdict(lambda: [0, 0, 0, 0, 0])   # exercises, slips, caught, named, vague
    for module, _ in exercises():
        counts[module][0] += 1
    misses = []
    for o in run_catalogue():
        row = counts[o.module]
        row[1] += 1
        row[2] += o.failed
        row[3] += o.named
        row[4] += o.vague
        if not o.named:
            misses.append(f"{o.module}.{o.exercise}: {o.slip} ({'not caught' if not o.failed else 'not named'})")
    rows = [[m, *r] for m, r in counts.items()]
    rows.append(["total", *[sum(r[i] for r in counts.values()) for i in range(5)]])
    print_table("Known slips per notebook: caught and named by their own words", ["notebook module", "exercises", "slips", "caught", "named", "vague"], rows)
    for line in misses:
        print("  missed:", line)


if __name__ == "__main__":
    main()
