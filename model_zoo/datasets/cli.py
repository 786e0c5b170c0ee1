"""Command line: ``python -m model_zoo.datasets prepare mnist fashion_mnist linux gutenberg``.

Example:
    >>> from model_zoo.datasets.cli import main
    >>> main(["status", "--data-dir", "/tmp/none"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from model_zoo.datasets.catalog import DATASETS, is_prepared
from model_zoo.datasets.prepare import prepare
from model_zoo.datasets.text import TEXT_CORPORA, load_text_corpus, text_corpus_path

NAMES = (*DATASETS, *TEXT_CORPORA)


def build_parser(prog: str = "python -m model_zoo.datasets") -> argparse.ArgumentParser:
    """The argument parser of :func:`main`.

    Args:
        prog: Program name shown in the usage line.

    Returns:
        The `argparse.ArgumentParser`.
    """
    parser = argparse.ArgumentParser(prog=prog, description="Prepare and inspect datasets.")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("prepare", help="prepare datasets/corpora into the data dir")
    make.add_argument(
        "names",
        nargs="+",
        choices=NAMES,
        metavar="NAME",
        help=f"one or more of: {', '.join(NAMES)}",
    )
    make.add_argument(
        "--download",
        action="store_true",
        help="let tfds download datasets with no offline source (needs internet)",
    )
    show = commands.add_parser("status", help="show which datasets are prepared")
    for sub in (make, show):
        sub.add_argument(
            "--data-dir",
            default=None,
            help="tfds data dir (default: $KERAS_BINARY_DATA_DIR or ~/tensorflow_datasets)",
        )
        sub.add_argument(
            "--cache-dir",
            default=None,
            help="source archive cache (default: ~/.cache/keras_binary)",
        )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "python -m model_zoo.datasets") -> int:
    """Run the command line; returns the exit status (0 ok, 1 a dataset failed).

    Args:
        argv: The arguments after the program name; None reads `sys.argv`.
        prog: Program name shown in the usage line.

    Returns:
        0 when every named dataset is prepared, 1 when one failed.

    Example:

    >>> main(["status"])  # doctest: +SKIP
    """
    from model_zoo.cli import quiet_framework_logs

    quiet_framework_logs()
    args = build_parser(prog).parse_args(argv)
    if args.command == "status":
        for name in DATASETS:
            state = "prepared" if is_prepared(name, args.data_dir) else "missing"
            print(f"{name:15s} {state}")
        for name in TEXT_CORPORA:
            state = "prepared" if text_corpus_path(name, args.data_dir).is_file() else "missing"
            print(f"{name:15s} {state}")
        return 0
    status = 0
    for name in dict.fromkeys(args.names):
        try:
            if name in TEXT_CORPORA:
                text = load_text_corpus(name, args.data_dir, cache_dir=args.cache_dir)
                where = text_corpus_path(name, args.data_dir)
                print(f"{name}: {len(text)} characters in {where}")
            else:
                where = prepare(
                    name, args.data_dir, download=args.download, cache_dir=args.cache_dir
                )
                print(f"{name}: prepared in {where}")
        except (OSError, ValueError, RuntimeError) as error:
            print(f"{name}: FAILED: {error}", file=sys.stderr)
            status = 1
    return status
