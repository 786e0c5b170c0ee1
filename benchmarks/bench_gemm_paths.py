"""Binary GEMM time per kernel ISA over a grid of shapes, to place the CPU driver's path rules.

For every rows x channels x K product of the grid, times ``kernels.binary_matmul`` (packed
operands, float32 output) with each ISA of ``--isas`` in turn, alternating the ISAs over
``--rounds`` rounds in one process (so slow drifts of a shared machine hit both), and prints
the median of the rounds' medians, the ratio of the first ISA's time to the others', and the
path the driver takes with each (``gemm_path``). The thresholds of the AMX paths
(``kAmxMinRows``, ``kAmxMinChannels``, ``kAmxStreamMinRows``, ``kAmxStreamMinChannels``,
``kAmxStreamMinOutputs`` in csrc/gemm_driver.cc) were read off this table, with one thread and
with ``--threads all``.
Runs on the current Keras backend (JAX or TensorFlow); ``--threads 1`` pins one CPU. Usage::

    KERAS_BACKEND=jax python benchmarks/bench_gemm_paths.py               # avx512 vs amx
    KERAS_BACKEND=jax python benchmarks/bench_gemm_paths.py --rows 512 3136 --channels 128
    KERAS_BACKEND=jax python benchmarks/bench_gemm_paths.py --rows 64 128 256 512 \
        --channels 512 1024 4096 --k 1152 4096                          # amx_stream
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _median_ms(fn, fn_args: tuple, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(*fn_args)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isas", nargs="+", default=["avx512", "amx"])
    parser.add_argument("--rows", nargs="+", type=int, default=[256, 512, 1024, 3136])
    parser.add_argument("--channels", nargs="+", type=int, default=[64, 128, 256, 512])
    parser.add_argument("--k", nargs="+", type=int, default=[576, 1152, 2304, 4608])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--threads", choices=["1", "all"], default="1")
    args = parser.parse_args()
    if args.threads == "1":
        # Before any thread starts: one CPU, and XLA's own thread pools kept to one thread.
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false"
                                   " intra_op_parallelism_threads=1")
    import keras
    import numpy as np

    from keras_binary import kernels
    from keras_binary.kernels.testing import cpu_supports, force_isa, gemm_path

    missing = [isa for isa in args.isas if not cpu_supports(isa)]
    if missing:
        sys.exit(f"this CPU (or OS) does not support: {', '.join(missing)}")
    if args.threads == "1":
        kernels.set_num_threads(1)
    if keras.backend.backend() == "jax":
        import jax

        def compiled(f):
            g = jax.jit(f)
            return lambda *a: g(*a).block_until_ready()
    else:
        import tensorflow as tf

        def compiled(f):
            return tf.function(f, jit_compile=True)

    default_isa = kernels.kernel_info()["isa"]
    rng = np.random.default_rng(0)
    first, others = args.isas[0], args.isas[1:]
    header = (f"{'rows x K x channels':<20} " +
              " ".join(f"{isa + ' ms':>10} {'path':<10}" for isa in args.isas) +
              "".join(f" {first + '/' + isa:>12}" for isa in others))
    print(f"backend {keras.backend.backend()}, threads {args.threads}, rounds {args.rounds}")
    print(header)
    print("-" * len(header))
    for m in args.rows:
        for n in args.channels:
            for k in args.k:
                x = kernels.pack_bits(np.sign(rng.standard_normal((m, k))).astype("float32"))
                w = kernels.pack_bits(np.sign(rng.standard_normal((n, k))).astype("float32"))
                x, w = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(w)
                f = compiled(lambda a, b, k=k: kernels.binary_matmul(a, b, k,
                                                                     implementation="kernel"))
                f(x, w)  # compile
                times = {isa: [] for isa in args.isas}
                paths = {}
                for _ in range(args.rounds):
                    for isa in args.isas:
                        force_isa(isa)
                        paths[isa] = gemm_path(m, n, k)
                        f(x, w)
                        times[isa].append(_median_ms(f, (x, w), args.reps))
                ms = {isa: statistics.median(t) for isa, t in times.items()}
                print(f"{f'{m}x{k}x{n}':<20} " +
                      " ".join(f"{ms[isa]:>10.3f} {paths[isa]:<10}" for isa in args.isas) +
                      "".join(f" {ms[first] / ms[isa]:>11.2f}x" for isa in others), flush=True)
    force_isa(default_isa)


if __name__ == "__main__":
    main()
