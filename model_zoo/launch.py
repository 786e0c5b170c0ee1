"""Starts N workers of a multi-process training run on this machine and watches them.

    python -m model_zoo.launch 2 -- python -m model_zoo train lab_mlp --seed 1 --limit 2048

Each worker runs the given command with ``KERAS_BINARY_NUM_WORKERS``,
``KERAS_BINARY_WORKER_INDEX`` and ``KERAS_BINARY_COORDINATOR`` set
(`keras_binary.distributed.Cluster.from_env`), the coordinator on 127.0.0.1 at free ports. When
a worker fails, the others get `grace_s` seconds to stop by themselves (their backend notices
the lost peer), then are killed, and one line names the worker that failed; a run still going
after `timeout_s` is killed too. Nothing hangs. The exit status is 0 when all workers succeed,
else the first failure's (124 on timeout, 130 on Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from keras_binary.distributed import COORDINATOR, NUM_WORKERS, WORKER_INDEX, WORKER_TIMEOUT

HOST = "127.0.0.1"
TIMED_OUT, INTERRUPTED = 124, 130  # the statuses of `timeout` and of Ctrl-C
POLL_S = 0.2


def free_ports(count: int, host: str = HOST, first: int = 20000, last: int = 60000) -> int:
    """The first of `count` consecutive ports free on `host` (TensorFlow's workers use
    PORT..PORT+count-1), starting at a pseudo-random place so that parallel runs rarely meet.

    Args:
        count: How many consecutive ports.
        host: The address to bind.
        first: Lowest port tried.
        last: Highest port tried.

    Returns:
        The first port.
    """
    span = last - first
    start = first + (os.getpid() * 7919 + time.time_ns() // 1000) % span
    for offset in range(0, span, count):
        base = first + (start - first + offset) % (span - count)
        sockets = []
        try:
            for port in range(base, base + count):
                probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(probe)
                probe.bind((host, port))
            return base
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()
    raise OSError(f"no {count} consecutive free ports on {host} between {first} and {last}")


def _describe(status: int) -> str:
    if status < 0:
        return f"killed by {signal.Signals(-status).name}"
    return f"exit status {status}"


def _stop(processes: Sequence[subprocess.Popen], grace_s: float) -> None:
    """Waits up to `grace_s` for the running processes, then kills their process groups."""
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(p.poll() is None for p in processes):
        time.sleep(POLL_S)
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    for process in processes:
        process.wait()


def launch(
    num_workers: int,
    command: Sequence[str],
    *,
    timeout_s: float | None = None,
    grace_s: float = 30.0,
    worker_timeout_s: int | None = None,
    env: Mapping[str, str] | None = None,
    log_dir: str | os.PathLike | None = None,
) -> int:
    """Runs `command` as `num_workers` local workers until all end; returns the exit status.

    Args:
        num_workers: Number of workers (>= 1).
        command: The worker's command line (the same for each worker).
        timeout_s: Kill all workers after this many seconds; None waits without limit.
        grace_s: After a worker fails, how long the others may take to stop by themselves.
        worker_timeout_s: The workers' ``KERAS_BINARY_WORKER_TIMEOUT``; None keeps the default.
        env: The workers' environment; None takes this process's.
        log_dir: Write worker ``i``'s output to ``log_dir/worker-i.log``; None: to this
            process's output.

    Returns:
        0 when every worker exits with 0; else the first failing worker's status (a signal's
        as 128 + its number), 124 on timeout, 130 on Ctrl-C.

    Example:

    >>> launch(2, [sys.executable, "-c", "print('hi')"])  # doctest: +SKIP
    0
    """
    if num_workers < 1:
        raise ValueError(f"num_workers must be >= 1, got {num_workers}")
    if not command:
        raise ValueError("no worker command given: put it after --, e.g. -- python -m model_zoo "
                         "train ...")
    port = free_ports(num_workers)
    base = dict(os.environ if env is None else env)
    base.update({NUM_WORKERS: str(num_workers), COORDINATOR: f"{HOST}:{port}"})
    if worker_timeout_s is not None:
        base[WORKER_TIMEOUT] = str(worker_timeout_s)
    logs = []
    if log_dir is not None:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        logs = [open(Path(log_dir) / f"worker-{index}.log", "wb")  # noqa: SIM115
                for index in range(num_workers)]
    processes = [
        subprocess.Popen(list(command), env={**base, WORKER_INDEX: str(index)},
                         stdout=logs[index] if logs else None,
                         stderr=subprocess.STDOUT if logs else None,
                         start_new_session=True)  # its own group: killed with its children
        for index in range(num_workers)
    ]
    for log in logs:
        log.close()  # each worker holds its own copy of the descriptor
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    try:
        while True:
            statuses = [process.poll() for process in processes]
            failed = [(i, s) for i, s in enumerate(statuses) if s not in (None, 0)]
            if failed:
                index, status = failed[0]
                print(f"launch: worker {index} of {num_workers} failed ({_describe(status)}); "
                      f"stopping the others", file=sys.stderr, flush=True)
                _stop(processes, grace_s)
                return status if status > 0 else 128 - status
            if all(status == 0 for status in statuses):
                return 0
            if deadline is not None and time.monotonic() > deadline:
                print(f"launch: the workers were still running after {timeout_s:g} s; "
                      "killed them", file=sys.stderr, flush=True)
                _stop(processes, 0)
                return TIMED_OUT
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        print("launch: interrupted; killed the workers", file=sys.stderr, flush=True)
        _stop(processes, 0)
        return INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m model_zoo.launch N [--timeout S] [--grace S] -- COMMAND ...`.

    Args:
        argv: The arguments after the program name; None reads `sys.argv`.

    Returns:
        `launch`'s exit status (2 for a usage error).
    """
    parser = argparse.ArgumentParser(prog="python -m model_zoo.launch",
                                     description="start N local workers of a training run",
                                     usage="%(prog)s N [options] -- COMMAND ...")
    parser.add_argument("num_workers", type=int, help="number of worker processes")
    parser.add_argument("--timeout", type=float, help="kill all workers after this many seconds")
    parser.add_argument("--grace", type=float, default=30.0,
                        help="after a worker fails, seconds the others get to stop by themselves")
    parser.add_argument("--log-dir", help="write worker I's output to LOG_DIR/worker-I.log")
    parser.add_argument("--worker-timeout", type=int,
                        help="the workers' wait for a silent peer (KERAS_BINARY_WORKER_TIMEOUT)")
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        parser.error("put the worker's command after --, e.g. -- python -m model_zoo train ...")
    split = argv.index("--")
    args, command = parser.parse_args(argv[:split]), argv[split + 1:]
    try:
        return launch(args.num_workers, command, timeout_s=args.timeout, grace_s=args.grace,
                      worker_timeout_s=args.worker_timeout, log_dir=args.log_dir)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
