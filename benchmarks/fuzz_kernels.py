"""The large fuzz profile of the CPU kernels: `tests/kernels/test_fuzz.py` with
``KB_FUZZ_PROFILE=large`` (random, 3000 examples per test, 1500 for the grouped layer test:
10,500 generated cases per backend), each backend in its own process. Prints one JSON line per
backend: cases per test, their total, the wall time and the result (the first failure's
hypothesis report, which includes a blob to reproduce it, on failure); progress on stderr.

Usage::

    python benchmarks/fuzz_kernels.py                       # jax and tensorflow
    python benchmarks/fuzz_kernels.py --backends jax --examples 200
    KERAS_BINARY_KERNEL_LIB=/path/to/asan/libkeras_binary_kernels.so \\
        LD_PRELOAD=$(gcc -print-file-name=libasan.so) python benchmarks/fuzz_kernels.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = ("test_pack_bits_matches_numpy", "test_binary_matmul_matches_numpy",
         "test_binary_conv2d_matches_numpy", "test_grouped_conv2d_layer_matches_numpy")


def worker() -> dict:
    """Runs every property test of the fuzz module in this process (its backend)."""
    sys.path.insert(0, ROOT)
    import keras

    from tests.kernels import test_fuzz

    if not test_fuzz.ON_CPU:
        return {"backend": keras.backend.backend(), "result": "skipped: no CPU kernel route"}
    start = time.perf_counter()
    result = "passed"

    def report_progress() -> None:  # cases so far, once a minute, on stderr
        while True:
            time.sleep(60)
            print(f"{dict(test_fuzz.CASES)} after {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)

    threading.Thread(target=report_progress, daemon=True).start()
    for name in TESTS:
        try:
            getattr(test_fuzz, name)()
        except Exception:  # a falsified property: report it and stop
            result = f"FAILED {name}: {traceback.format_exc()[-3000:]}"
            break
        finally:  # progress on stderr, which the parent passes through
            print(f"{name}: {dict(test_fuzz.CASES)} after "
                  f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return {"backend": keras.backend.backend(), "profile": test_fuzz.PROFILE,
            "isas": test_fuzz.ISAS, "cases": dict(test_fuzz.CASES),
            "total": sum(test_fuzz.CASES.values()),
            "seconds": round(time.perf_counter() - start, 1), "result": result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow"])
    parser.add_argument("--profile", default="large", choices=["ci", "large"])
    parser.add_argument("--examples", type=int, help="examples per test (overrides the profile)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker()), flush=True)
        return 0
    failed = False
    for backend in args.backends:
        env = dict(os.environ, KERAS_BACKEND=backend, KB_FUZZ_PROFILE=args.profile)
        if args.examples:
            env["KB_FUZZ_EXAMPLES"] = str(args.examples)
        run = subprocess.run([sys.executable, __file__, "--worker"], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
        lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
        if run.returncode or not lines:
            print(json.dumps({"backend": backend, "result": f"worker exited {run.returncode}"}),
                  flush=True)
            failed = True
            continue
        print(lines[-1], flush=True)
        failed |= not json.loads(lines[-1])["result"].startswith(("passed", "skipped"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
