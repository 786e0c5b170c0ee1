"""Binary GEMM / conv2d kernels vs the backend's float32 ops, 1 thread and all threads.

"binary ms" is the kernel on operands already packed to bits (how chained binary layers run:
activations stay packed), float32 output. "pack+bin ms" also packs the float32 input (A side)
inside the same compiled call. Speed-up = float32 ms / binary ms. On TensorFlow the float32 op
is timed both with oneDNN (TF's default on CPU, no XLA) and under XLA (jit_compile=True), and
the faster is the baseline ("f32 op"); the binary ops run under XLA there, as in the models
`keras_binary.inference.convert` returns. Weights are packed once, outside the timed call, in
both columns. Each op is compiled and then called for 0.5 s before its timed calls, so every
column is its steady state. Runs one subprocess per (backend, threads) setting, since thread
counts are fixed at start-up, and prints one table. A "1"-thread worker is also pinned to one
CPU (`os.sched_setaffinity`): XLA's CPU matmul on JAX ignores the thread flags and would
otherwise use every core for the float32 column. Below the table, the per-call cost of a
compiled function that does almost nothing (the binary column's route) on each setting:
TensorFlow's is ~10x JAX's, which is most of its time for the smaller ops. ``--isas`` times the
binary columns once per kernel ISA (e.g. ``avx512 amx``: the popcount kernel and the AMX path,
same process, same float32 baseline); by default, the library's own choice. Usage::

    python benchmarks/bench_kernels.py                 # jax and tensorflow, 1 and all threads
    python benchmarks/bench_kernels.py --backends jax --threads 1 --reps 3
    python benchmarks/bench_kernels.py --isas avx512 amx
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
GEMMS = [(12544, 2304, 256), (3136, 576, 64), (64, 4096, 4096)]
# (batch, size, channels in, channels out, kernel): ResNet-18 / Bi-Real-Net stage shapes.
CONVS = [(1, 56, 64, 64, 3), (1, 28, 128, 128, 3), (1, 14, 256, 256, 3), (8, 14, 256, 256, 3)]


def _median_ms(fn, reps: int, warmup_s: float = 0.5) -> float:
    """Median of ``reps`` timed calls of ``fn``, after a warm-up: the first call (compilation),
    then calls until ``warmup_s`` seconds have passed. The steady state is what a model serving
    many calls sees. On TensorFlow a compiled function's first 10-20 calls after compiling run
    slower (binary GEMM 12544x2304x256, three processes: 7.1-7.4 ms for the first, settling at
    4.8-5.2 ms; on JAX within 2-3 calls), and ``reps`` calls straight after the first timed that
    transient."""
    fn()  # compile
    t_end = time.perf_counter() + warmup_s
    while time.perf_counter() < t_end:
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * sorted(times)[len(times) // 2]


def _conv_same(x, kernel):
    import keras

    return keras.ops.conv(x, kernel, padding="same")


def worker(threads: int, reps: int, isas: list[str]) -> list[dict]:
    """Measures in this process (backend and threads already configured); the binary ops once
    per ISA in ``isas`` (empty: the library's choice)."""
    import keras
    import numpy as np

    from keras_binary import kernels
    from keras_binary.kernels.testing import force_isa

    backend = keras.backend.backend()
    if threads == 1:
        kernels.set_num_threads(1)
    if backend == "jax":
        import jax

        def compiled(f, xla=True):
            g = jax.jit(f)
            return lambda *a: g(*a).block_until_ready()

        float_routes = {"xla": True}

    else:
        import tensorflow as tf

        def compiled(f, xla=True):
            # Eager execution is synchronous, so the call returns once the op has run; the
            # result is not copied out with .numpy(), as the JAX column does not copy it either
            # (for a 12544x256 float32 output that copy alone took ~0.9 ms).
            g = tf.function(f, jit_compile=xla)
            return lambda *a: g(*a)

        # The float32 op both ways TensorFlow runs it (oneDNN without XLA, TF's default on CPU;
        # XLA with jit_compile); the faster is the baseline. The binary ops run under XLA, as in
        # the models `inference.convert` returns (jit_compile=True).
        float_routes = {"onednn": False, "xla": True}

    rng = np.random.default_rng(0)
    rows = []
    default_isa = kernels.kernel_info()["isa"]

    def add(kind, shape, macs, f_float, f_binary, f_pack_binary, float_args, bin_args):
        float_ms = {}
        for route, xla in float_routes.items():
            g = compiled(f_float, xla)
            float_ms[route] = _median_ms(lambda g=g: g(*float_args), reps)
        float_route = min(float_ms, key=float_ms.get)
        tf_ms = float_ms[float_route]
        for isa in isas or [default_isa]:
            force_isa(isa)
            tb_ms = _median_ms(lambda: f_binary(*bin_args), reps)
            tpb_ms = _median_ms(lambda: f_pack_binary(float_args[0], bin_args[1]), reps)
            rows.append(dict(backend=backend, threads=threads, kind=kind, shape=shape, isa=isa,
                             float_route=float_route, float_ms=tf_ms, binary_ms=tb_ms,
                             pack_binary_ms=tpb_ms, float_gops=2 * macs / tf_ms / 1e6,
                             binary_gops=2 * macs / tb_ms / 1e6))
        force_isa(default_isa)

    for m, k, n in GEMMS:
        x = np.sign(rng.standard_normal((m, k))).astype("float32")
        w = np.sign(rng.standard_normal((k, n))).astype("float32")
        px = keras.ops.convert_to_tensor(kernels.pack_bits(x))
        pw = keras.ops.convert_to_tensor(kernels.pack_bits(np.ascontiguousarray(w.T)))
        x, w = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(w)
        f_bin = compiled(lambda a, b, k=k: kernels.binary_matmul(a, b, k, implementation="kernel"))
        f_pack_bin = compiled(lambda a, b, k=k: kernels.binary_matmul(
            kernels.pack_bits(a, implementation="kernel"), b, k, implementation="kernel"))
        add("gemm", f"{m}x{k}x{n}", m * k * n, keras.ops.matmul, f_bin, f_pack_bin,
            (x, w), (px, pw))
    for b, s, cin, cout, ks in CONVS:
        x = np.sign(rng.standard_normal((b, s, s, cin))).astype("float32")
        w = np.sign(rng.standard_normal((ks, ks, cin, cout))).astype("float32")
        px = keras.ops.convert_to_tensor(kernels.pack_bits(x))
        pw = keras.ops.convert_to_tensor(kernels.pack_conv2d_kernel(w))
        x, w = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(w)
        f_bin = compiled(lambda a, c, cin=cin: kernels.binary_conv2d(
            a, c, channels=cin, padding="same", implementation="kernel"))
        # A float32 input is packed inside binary_conv2d.
        f_pack_bin = compiled(lambda a, c: kernels.binary_conv2d(
            a, c, padding="same", implementation="kernel"))
        add("conv", f"{b}x{s}x{s}x{cin}->{cout} k{ks}", b * s * s * cin * cout * ks * ks,
            _conv_same, f_bin, f_pack_bin, (x, w), (px, pw))
    # The fixed cost of one call on this backend: a compiled function that returns one element
    # of a small input. Every time above includes it once.
    small = keras.ops.convert_to_tensor(np.zeros((8, 8), "int32"))
    f_call = compiled(lambda a: a[0, 0])
    rows.append(dict(backend=backend, threads=threads, kind="call",
                     call_ms=_median_ms(lambda: f_call(small), max(reps, 51))))
    return rows


def run_setting(backend: str, threads: int, reps: int, isas: list[str]) -> list[dict]:
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    # glibc serves large allocations with fresh mmaps, so every JAX call that allocates a big
    # output (12.8 MB at 12544x256) pays ~3000 page faults, 1-5 ms that varied run to run; keep
    # such blocks on the heap so both columns time the op, not the allocator (TF's allocator
    # already reuses its buffers).
    env.setdefault("MALLOC_MMAP_THRESHOLD_", str(1 << 30))
    env.setdefault("MALLOC_TRIM_THRESHOLD_", str(1 << 30))
    if threads == 1:
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                            " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
        env["TF_NUM_INTRAOP_THREADS"] = "1"
        env["TF_NUM_INTEROP_THREADS"] = "1"
        env["OMP_NUM_THREADS"] = "1"
    cmd = [sys.executable, __file__, "--worker", str(threads), "--reps", str(reps),
           "--isas", *isas]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{backend} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow"])
    parser.add_argument("--threads", nargs="+", default=["1", "all"])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--isas", nargs="*", default=[],
                        help="kernel ISAs to time the binary ops with (default: the library's)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        if args.worker == "1" and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # before any thread starts
        if os.environ.get("KERAS_BACKEND") == "tensorflow" and args.worker == "1":
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        print(json.dumps(worker(int(args.worker), args.reps, args.isas)))
        return
    from keras_binary.kernels.testing import active_isa, cpu_supports

    kernel_isa, library = active_isa()
    missing = [isa for isa in args.isas if not cpu_supports(isa)]
    if missing:
        sys.exit(f"this CPU (or OS) does not support: {', '.join(missing)}")
    print(f"CPU threads: {os.cpu_count()}, kernel ISA: {kernel_isa}, library: {library}")
    header = (f"{'backend':<10} {'thr':>3} {'op':<4} {'shape':<24} {'isa':<8} {'f32 op':<6} "
              f"{'float32 ms':>10} "
              f"{'binary ms':>9} {'pack+bin ms':>11} {'f32 GOPS':>9} {'bin GOPS':>9} "
              f"{'speed-up':>8}")
    print(header)
    print("-" * len(header))
    call_costs = []
    for backend in args.backends:
        for threads in args.threads:
            n = 1 if threads == "1" else 0
            for r in run_setting(backend, n, args.reps, args.isas):
                if r["kind"] == "call":
                    call_costs.append(f"{backend} {threads} thr {r['call_ms']:.3f} ms")
                    continue
                print(f"{r['backend']:<10} {threads:>3} {r['kind']:<4} {r['shape']:<24} "
                      f"{r['isa']:<8} "
                      f"{r['float_route']:<6} {r['float_ms']:>10.2f} {r['binary_ms']:>9.2f} "
                      f"{r['pack_binary_ms']:>11.2f} {r['float_gops']:>9.1f} "
                      f"{r['binary_gops']:>9.1f} {r['float_ms'] / r['binary_ms']:>7.1f}x",
                      flush=True)
    print("Per-call cost of a compiled function doing almost nothing (included once in every "
          "time above): " + ", ".join(call_costs))


if __name__ == "__main__":
    main()
