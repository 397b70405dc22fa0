"""One timed analysis of a folder, CLIP off, printed as one line of JSON.

`python -m analysis.bench --against REF` runs this file under each version's engine (PYTHONPATH names the
checkout to import), so that two versions are timed apart from the benchmark's own process, on the same
data and machine. It imports only what every version of the engine has had.
"""

import json
import sys
import time

from analysis.engine.pipeline import Options, find_duplicates
from analysis.engine.sources import collect_files


def main() -> None:
    folder, workers = sys.argv[1], int(sys.argv[2])
    files, _ = collect_files([folder])
    started = time.perf_counter()
    result = find_duplicates(files, Options(use_clip=False, workers=workers))
    seconds = time.perf_counter() - started
    names = [item.name for item in result.items]
    duplicates = sorted(f"{names[pair.first]} ~ {names[pair.second]}" for pair in result.duplicates)
    found = {"items": len(names), "pairs": len(result.pairs), "duplicates": duplicates}
    print(json.dumps({"seconds": seconds, "timings": result.timings, **found}))


if __name__ == "__main__":  # readers are spawned and import this file again
    main()
