import os
import subprocess
import sys
from pathlib import Path

import pytest

from model_zoo.datasets import main

ROOT = Path(__file__).resolve().parents[3]


def test_status_reports_missing_and_prepared(mnist_data_dir, tmp_path, capsys):
    assert main(["status", "--data-dir", str(mnist_data_dir)]) == 0
    lines = dict(line.split() for line in capsys.readouterr().out.splitlines())
    assert lines["mnist"] == "prepared" and lines["cifar10"] == "missing"
    assert main(["status", "--data-dir", str(tmp_path)]) == 0
    assert "prepared" not in capsys.readouterr().out


def test_prepare_command_is_idempotent_and_reports_failures(mnist_data_dir, capsys):
    assert main(["prepare", "mnist", "cifar10", "--data-dir", str(mnist_data_dir)]) == 1
    captured = capsys.readouterr()
    assert f"mnist: prepared in {mnist_data_dir / 'mnist' / '3.0.1'}" in captured.out
    assert "cifar10: FAILED" in captured.err and "--download" in captured.err


def test_prepare_rejects_unknown_names(capsys):
    with pytest.raises(SystemExit):
        main(["prepare", "mnistt"])
    assert "invalid choice" in capsys.readouterr().err


def test_importing_and_numpy_paths_do_not_import_tensorflow(tmp_path):
    code = (
        "import sys, model_zoo.datasets as d\n"
        "assert 'tensorflow' not in sys.modules\n"
        "x = d.mnist_slice(8, 2)[0]\n"
        "v = d.char_dataset('abcdefgh' * 50, 4, 2)\n"
        "d.load_text_corpus('linux', sys.argv[1])\n"
        "assert 'tensorflow' not in sys.modules, 'numpy paths imported tensorflow'\n"
        "assert d.main(['status', '--data-dir', sys.argv[1]]) == 0\n"
        "assert 'tensorflow' not in sys.modules and 'tensorflow_datasets' not in sys.modules\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_module_entry_point_runs(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "model_zoo.datasets", "status", "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "mnist" in result.stdout and "missing" in result.stdout
