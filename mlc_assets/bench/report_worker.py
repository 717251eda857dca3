"""One measured run in a fresh process: ``python -m mlc_assets.bench.report_worker``.

Each path runs in its own interpreter so peak RSS is that path's alone (imports included)
and no path warms a cache for another. Prints one JSON object: ``seconds`` (the path, after
imports and loading the GL mapping), ``peak_rss_mb`` and the path's own ``result`` (so a run
that did not do the work cannot pass as fast).

Peak RSS is ``VmHWM`` from ``/proc/self/status``: the high-water mark of this process's own
address space. ``ru_maxrss`` is not used on Linux because it survives ``exec`` and so
reports the parent's size when the parent was the larger one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import time
from pathlib import Path

MODES = ("connector", "polars", "rowwise")


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:  # pragma: no cover - not Linux
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # pragma: no cover
    return maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)  # pragma: no cover


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("path", type=Path)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--charset", default=None)
    args = parser.parse_args(argv)

    if args.mode == "connector":
        from mlc_assets.bench.connector_path import run_file
        from mlc_assets.domain.mapping import load_mapping

        mapping = load_mapping()
        start = time.perf_counter()
        out = dataclasses.asdict(
            run_file(args.path, args.workdir, charset=args.charset, mapping=mapping)
        )
    elif args.mode == "polars":
        from mlc_assets.bench.baselines import polars_floor

        start = time.perf_counter()
        out = polars_floor(args.path, charset=args.charset)
    else:
        from mlc_assets.bench.baselines import rowwise
        from mlc_assets.domain.mapping import load_mapping

        mapping = load_mapping()
        start = time.perf_counter()
        out = rowwise(args.path, mapping, charset=args.charset)
    seconds = time.perf_counter() - start
    json.dump(
        {"mode": args.mode, "seconds": seconds, "peak_rss_mb": peak_rss_mb(), "result": out},
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
