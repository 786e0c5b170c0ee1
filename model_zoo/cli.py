"""Command line of the zoo: `python -m model_zoo {list,train,evaluate,export,bench,demo} ...`.

Examples:

    python -m model_zoo list
    python -m model_zoo train binarynet_mlp_2048 --dataset mnist --epochs 20 --output-dir runs/m
    python -m model_zoo train lab_mlp --model-option binarize_activations=True  # LAB2
    python -m model_zoo evaluate binarynet_mlp_2048 --dataset mnist --weights mnist
    python -m model_zoo export runs/m/checkpoint.keras mlp.npz --model binarynet_mlp_2048
    python -m model_zoo bench binarynet_mlp_2048 --weights mnist --batch-sizes 1 32
    python -m model_zoo demo --pretrained

Nothing saved is overwritten without `--overwrite`: `export` and `train --export` refuse an
existing file; `train` resumes an interrupted run in `--output-dir` only when it was started with
the same model, recipe, `--limit` and `--seed`, and refuses a directory holding another run or a
finished one (`--overwrite` deletes that run's checkpoint, backup and logs and starts afresh).
Output paths are checked before any work starts. Errors print one line naming the problem and
the fix (exit status 2); Ctrl-C prints one line (exit status 130) and a later `train` with the
same arguments resumes after the last finished epoch.

`train` runs as one worker of a multi-process run with `--num-workers N --worker-index I
--coordinator HOST:PORT` (or the variables of `keras_binary.distributed`), every worker with
the same other arguments (a `--seed` is required); only worker 0 writes the run directory, then
evaluates and exports. `python -m model_zoo.launch N -- python -m model_zoo train ...` starts N
such workers on this machine. `--model-parallel N` (JAX only) splits the large dense kernels
over N devices and each batch over the rest (`keras_binary.model_parallel`); with workers the
devices are all the workers', so a kernel may be split across processes. `train` and `demo`
keep the host memory their steps free for the next step
(`keras_binary.host_memory.keep_freed_memory`).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import math
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

INTERRUPTED = 130  # the shell's status for a process ended by SIGINT


def _print_list() -> None:
    # Recipes and the weights catalog are plain data: listing them loads no Keras backend.
    from model_zoo.recipes import RECIPES
    from model_zoo.weights_catalog import REGISTRY

    print(f"{'model':<22}{'recipe data set':<17}{'optimizer':<11}pretrained weights")
    for name, recipe in RECIPES.items():
        shipped = [
            f"{entry.weights} ({entry.test_accuracy:.2%})"
            for (model, _), entry in sorted(REGISTRY.items())
            if model == name
        ]
        print(f"{name:<22}{recipe.dataset:<17}{recipe.optimizer:<11}{', '.join(shipped) or '-'}")


def _check_output_file(path: str, overwrite: bool) -> None:
    """Refuses an output file that could not be written, before any work is done."""
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(
            f"{target} is a directory; give a file path such as {target / 'model.npz'}"
        )
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass --overwrite to replace it")
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"the folder of {target} does not exist; create it first")
    with tempfile.TemporaryFile(dir=folder):  # PermissionError if it is not writable
        pass


def _cluster(args: argparse.Namespace) -> Any:
    """The `Cluster` of the worker flags, else of the environment, else None (one process)."""
    from keras_binary.distributed import DEFAULT_TIMEOUT_S, Cluster

    if args.num_workers is None:
        if args.worker_index is not None or args.coordinator is not None:
            raise ValueError("--worker-index and --coordinator need --num-workers")
        return Cluster.from_env()
    if args.coordinator is None:
        raise ValueError("--num-workers needs --coordinator HOST:PORT (the chief's address)")
    return Cluster(args.num_workers, args.worker_index or 0, args.coordinator,
                   args.worker_timeout or DEFAULT_TIMEOUT_S)


def _train(args: argparse.Namespace) -> int:
    from model_zoo.training import evaluate, load_checkpoint, train

    cluster = _cluster(args)
    chief = cluster is None or cluster.is_chief
    if args.export and chief:
        _check_output_file(args.export, args.overwrite)

    model, _ = train(
        args.model, args.dataset, epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, learning_rate=args.learning_rate,
        final_learning_rate=args.final_learning_rate,
        model_options=_model_options(args.model_option), output_dir=args.output_dir,
        data_dir=args.data_dir, limit=args.limit, seed=args.seed, overwrite=args.overwrite,
        cluster=cluster, model_parallel=args.model_parallel,
    )
    if not chief:
        print(f"worker {cluster.worker_index} of {cluster.num_workers} done")
        return 0
    if cluster is not None or args.model_parallel is not None:
        model = load_checkpoint(args.model, args.output_dir, _model_options(args.model_option))
    dataset = args.dataset or _recipe_dataset(args.model)
    result = evaluate(model, dataset, data_dir=args.data_dir, limit=args.limit)
    print(f"{args.model} on {dataset}: test accuracy {result['accuracy']:.4f} "
          f"({result['examples']} examples)")
    if args.export:
        from model_zoo.packed_weights import save_packed_weights

        size = save_packed_weights(model, args.export, model_name=args.model,
                                   overwrite=args.overwrite)
        print(f"packed weights written to {args.export} ({size} bytes)")
    return 0


def _model_options(pairs: Sequence[str] | None) -> dict[str, Any]:
    """`["dropout_hidden=0", ...]` -> `{"dropout_hidden": 0}` (values as Python literals)."""
    options: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise SystemExit(f"--model-option wants KEY=VALUE, got {pair!r}")
        try:
            options[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            options[key] = text  # a bare word, e.g. a name
    return options


def _recipe_dataset(model: str) -> str:
    from model_zoo.recipes import get_recipe

    return get_recipe(model).dataset


def _evaluate(args: argparse.Namespace) -> int:
    from model_zoo.models import get_model
    from model_zoo.training import evaluate

    dataset = args.dataset or _recipe_dataset(args.model)
    model = get_model(args.model, weights=args.weights)
    result = evaluate(model, dataset, data_dir=args.data_dir, limit=args.limit)
    print(f"{args.model} ({args.weights}) on {dataset}: test accuracy {result['accuracy']:.4f} "
          f"({result['examples']} examples)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from model_zoo.models import get_model
    from model_zoo.packed_weights import save_packed_weights

    _check_output_file(args.output, args.overwrite)
    model = get_model(args.model)
    model.load_weights(args.checkpoint)
    size = save_packed_weights(model, args.output, model_name=args.model,
                               overwrite=args.overwrite)
    print(f"{args.output}: {size} bytes")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from model_zoo.bench import run_bench

    run_bench(args.model, weights=args.weights, batch_sizes=args.batch_sizes,
              dataset=args.dataset, data_dir=args.data_dir, limit=args.limit or 1000,
              repeats=args.repeats)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from model_zoo.demo import run_demo

    run_demo(dataset=args.dataset or "mnist", pretrained=args.pretrained, epochs=args.epochs,
             data_dir=args.data_dir, output_dir=args.output_dir, limit=args.limit,
             popcount=not args.no_popcount, overwrite=args.overwrite)
    return 0


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: `kind(text)`, refused unless finite and > 0."""

    def parse(text: str) -> Any:
        """The command-line value `text` as `kind`, if finite and > 0.

        Args:
            text: The argument as typed.

        Returns:
            `kind(text)`.
        """
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"wants a number, got {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


POSITIVE_INT, POSITIVE_FLOAT = _positive(int), _positive(float)


def build_parser(prog: str = "python -m model_zoo") -> argparse.ArgumentParser:
    """The argument parser of `main` (subcommands list, train, evaluate, export, bench, demo).

    Args:
        prog: Program name shown in the usage line.

    Returns:
        An `argparse.ArgumentParser` with one subparser per command.

    Example:

    >>> build_parser().parse_args(["list"]).command
    'list'
    """
    parser = argparse.ArgumentParser(prog=prog, description="keras-binary model zoo")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list zoo models, recipes and pretrained weights")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--dataset", help="tfds name (default: the recipe's)")
        sub.add_argument("--data-dir", help="tfds data dir (default $KERAS_BINARY_DATA_DIR)")
        sub.add_argument("--limit", type=POSITIVE_INT,
                         help="use at most this many examples per split")

    train = commands.add_parser("train", help="train a zoo model with its recipe (model.fit)")
    train.add_argument("model")
    common(train)
    train.add_argument("--epochs", type=POSITIVE_INT)
    train.add_argument("--batch-size", type=POSITIVE_INT)
    train.add_argument("--optimizer", choices=("adam", "bop", "lab"))
    train.add_argument("--learning-rate", type=POSITIVE_FLOAT,
                       help="the schedule's starting rate")
    train.add_argument("--final-learning-rate", type=POSITIVE_FLOAT,
                       help="where an exponential schedule ends (BinaryNet: 3e-7)")
    train.add_argument("--model-option", action="append", metavar="KEY=VALUE",
                       help="a keyword argument of the model's builder, e.g. dropout_hidden=0 "
                            "(repeatable)")
    train.add_argument("--output-dir", default="runs/train",
                       help="checkpoint each epoch, resume backup and TensorBoard logs; an "
                            "interrupted run there resumes when started again with the same "
                            "arguments, another or a finished run is refused")
    train.add_argument("--seed", type=int, help="seeds weights, dropout and shuffling")
    train.add_argument("--export", help="also write packed weights (.npz) here")
    train.add_argument("--overwrite", action="store_true",
                       help="replace an existing --export file and start afresh in an "
                            "--output-dir holding another or a finished run (deletes it)")
    workers = train.add_argument_group(
        "multi-process training", "run as one of N workers (default: $KERAS_BINARY_NUM_WORKERS, "
        "$KERAS_BINARY_WORKER_INDEX, $KERAS_BINARY_COORDINATOR; see keras_binary.distributed)")
    workers.add_argument("--num-workers", type=POSITIVE_INT, help="number of worker processes")
    workers.add_argument("--worker-index", type=int,
                         help="this worker's index, 0 (the chief, which writes) to N-1")
    workers.add_argument("--coordinator", metavar="HOST:PORT",
                         help="the chief's address (TensorFlow: worker I listens on PORT+I)")
    workers.add_argument("--worker-timeout", type=POSITIVE_INT, metavar="SECONDS",
                         help="how long to wait for the others to join or answer")

    train.add_argument("--model-parallel", type=POSITIVE_INT, metavar="N",
                       help="JAX: split the large kernels (keras_binary.model_parallel) over N "
                            "devices (the model axis), the batch over the rest; with "
                            "--num-workers, over all the workers' devices")

    evaluate = commands.add_parser("evaluate", help="test accuracy of a zoo model")
    evaluate.add_argument("model")
    common(evaluate)
    evaluate.add_argument("--weights", required=True, help="a pretrained name or a file")

    export = commands.add_parser("export", help="checkpoint (.keras/.weights.h5) -> packed .npz")
    export.add_argument("checkpoint")
    export.add_argument("output")
    export.add_argument("--model", required=True)
    export.add_argument("--overwrite", action="store_true", help="replace an existing output")

    bench = commands.add_parser("bench", help="float vs popcount latency and agreement")
    bench.add_argument("model")
    common(bench)
    bench.add_argument("--weights", help="a pretrained name or a file (default: as initialised)")
    bench.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    bench.add_argument("--repeats", type=POSITIVE_INT, default=10,
                       help="timed calls per batch size")

    demo = commands.add_parser("demo", help="prepare MNIST, train or load, evaluate, then popcount")
    common(demo)
    demo.add_argument("--pretrained", action="store_true", help="load shipped weights")
    demo.add_argument("--epochs", type=POSITIVE_INT,
                      help="training epochs (default: the demo's short budget, demo.DEMO_EPOCHS)")
    demo.add_argument("--output-dir", help="keep the training run here (default: a temporary "
                      "directory, removed at the end); same rules as train --output-dir")
    demo.add_argument("--overwrite", action="store_true",
                      help="start afresh in an --output-dir holding another or a finished run")
    demo.add_argument("--no-popcount", action="store_true",
                      help="skip the popcount-kernel conversion and speed comparison")
    return parser


def _cli_message(error: Exception) -> str:
    """`error` as one line naming CLI flags: the library's errors name keyword arguments."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        text = f"{error.filename}: {error.strerror.lower()}"
        if isinstance(error, PermissionError) or error.errno == 30:  # 30: read-only file system
            text += "; choose a folder you can write to (--output-dir, --export, output)"
    else:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text.replace("overwrite=True (CLI: --overwrite)", "--overwrite").replace(
        "overwrite=True", "--overwrite")


# Commands that train: each step's large buffers are kept for the next one
# (`keras_binary.host_memory.keep_freed_memory`, process-wide, so set by this application).
TRAINING_COMMANDS = ("train", "demo")


def quiet_framework_logs() -> None:
    """Hides TensorFlow's and XLA's C++ INFO lines (the CPU-feature banner, "XLA service ...
    initialized") in this process and its children; their warnings and errors still show.

    Called by the command line before anything imports TensorFlow (the C++ logger reads the
    variable once, at load); a level the user set is kept.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")


@contextlib.contextmanager
def _recording_sigint(record: list[bool]) -> Iterator[None]:
    """Raises KeyboardInterrupt on SIGINT as Python does, and appends True to `record` first.

    A library can catch the KeyboardInterrupt and raise another error in its place (Keras on
    PyTorch reports "Exception encountered when calling QuantDense.call()"); the record lets
    `main` still report a Ctrl-C as one. A SIGINT that is ignored (SIG_IGN) stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        yield
        return

    def on_sigint(signum: int, frame: Any) -> None:
        record.append(True)
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the zoo command line; returns the exit status.

    Args:
        argv: The arguments after the program name; None reads `sys.argv`.

    Returns:
        0 on success; 2 for a usage error (printed as one line on stderr: a bad argument, a
        missing file, an existing file without `--overwrite`).

    Example:

    >>> main(["list"])  # doctest: +SKIP
    """
    quiet_framework_logs()
    args = build_parser().parse_args(argv)
    if args.command in TRAINING_COMMANDS:
        from keras_binary.host_memory import keep_freed_memory

        keep_freed_memory()
    handlers = {"list": lambda a: _print_list() or 0, "train": _train, "evaluate": _evaluate,
                "export": _export, "bench": _bench, "demo": _demo}
    interrupted: list[bool] = []
    try:
        with _recording_sigint(interrupted):
            return handlers[args.command](args)
    except KeyboardInterrupt:
        pass
    except Exception as error:
        if not interrupted:
            if not isinstance(error, (ValueError, TypeError, OSError)):
                raise
            print(f"error: {_cli_message(error)}", file=sys.stderr)
            from keras_binary.distributed import WorkerLostError

            if isinstance(error, WorkerLostError):
                # JAX's exit-time shutdown would wait for the dead worker: end here instead
                # (the chief's backups are already on disk).
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(2)
            return 2
    resume = (" (run the same command again to resume after the last finished epoch)"
              if args.command in ("train", "demo") else "")
    print(f"interrupted{resume}", file=sys.stderr)
    return INTERRUPTED
