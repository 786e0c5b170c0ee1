"""The zoo command line: list, errors, and a tiny real training run with checkpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest

from model_zoo import datasets
from model_zoo.cli import main


def test_list_shows_models_recipes_and_pretrained(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("binarynet_mlp_2048", "xnornet", "birealnet34", "lab_mlp"):
        assert name in out
    assert "mnist (" in out  # a shipped pretrained entry with its accuracy


def test_unknown_model_exits_with_a_message(capsys):
    assert main(["evaluate", "resnet", "--weights", "mnist"]) == 2
    err = capsys.readouterr().err
    assert "'resnet'" in err and "binarynet_mlp_2048" in err


def test_bad_option_is_an_argparse_error():
    with pytest.raises(SystemExit):
        main(["train", "binarynet_mlp_2048", "--optimizer", "sgd"])


def test_train_writes_checkpoint_and_packed_weights(tmp_path, capsys):
    datasets.prepare("mnist")
    export = tmp_path / "w.npz"
    status = main(["train", "binarynet_mlp_2048", "--dataset", "mnist", "--epochs", "1",
                   "--limit", "200", "--output-dir", str(tmp_path / "run"),
                   "--export", str(export)])
    assert status == 0
    assert (tmp_path / "run" / "checkpoint.keras").is_file()
    assert export.is_file()
    assert "test accuracy" in capsys.readouterr().out
    # The finished run and the export are kept: the same command again is refused.
    before = (tmp_path / "run" / "checkpoint.keras").stat().st_mtime_ns
    again = ["train", "binarynet_mlp_2048", "--dataset", "mnist", "--epochs", "1", "--limit",
             "200", "--output-dir", str(tmp_path / "run")]
    assert main(again) == 2
    err = capsys.readouterr().err
    assert "finished run's checkpoint" in err and "--overwrite" in err
    assert (tmp_path / "run" / "checkpoint.keras").stat().st_mtime_ns == before


def test_train_passes_schedule_overrides_and_model_options(tmp_path):
    datasets.prepare("mnist")
    run = tmp_path / "run"
    status = main(["train", "binarynet_mlp_2048", "--dataset", "mnist", "--epochs", "1",
                   "--limit", "200", "--output-dir", str(run), "--learning-rate", "1e-3",
                   "--final-learning-rate", "1e-5", "--model-option", "dropout_hidden=0",
                   "--model-option", "dropout_input=0.1"])
    assert status == 0
    record = json.loads((run / "run.json").read_text())
    assert record["model_options"] == {"dropout_hidden": 0, "dropout_input": 0.1}
    assert record["recipe"]["learning_rate"] == 1e-3
    assert record["recipe"]["final_learning_rate"] == 1e-5
    model = keras.saving.load_model(run / "checkpoint.keras", compile=True)
    dropouts = {layer.name: layer.rate for layer in model.layers
                if isinstance(layer, keras.layers.Dropout)}
    assert dropouts == {"dropout_in": 0.1}  # no hidden dropout layers were built
    schedule = model.optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "ExponentialDecay"
    assert schedule["config"]["initial_learning_rate"] == pytest.approx(1e-3)
    assert schedule["config"]["decay_rate"] == pytest.approx(1e-2)  # 1e-5 / 1e-3 over the run


@pytest.mark.parametrize("option", ["dropout_hidden", "0=dropout", "=1"])
def test_malformed_model_option_exits_with_a_message(option, tmp_path):
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        main(["train", "binarynet_mlp_2048", "--model-option", option,
              "--output-dir", str(tmp_path)])


def test_demo_with_pretrained_weights_evaluates_and_calls_the_hook(capsys):
    from model_zoo.demo import run_demo
    from model_zoo.weights_registry import REGISTRY

    seen = []
    accuracy = run_demo("mnist", pretrained=True,
                        after_evaluate=lambda model, images: seen.append(images.shape))
    assert accuracy == pytest.approx(REGISTRY[("binarynet_mlp_2048", "mnist")].test_accuracy,
                                     abs=0.002)
    assert seen == [(1000, 28, 28, 1)]
    out = capsys.readouterr().out
    assert "test accuracy on mnist" in out
    # The popcount path classifies the real test set like the float path.
    line = next(x for x in out.splitlines() if x.startswith("[popcount] test accuracy"))
    assert f"popcount path {accuracy:.4f}" in line and "on 100.00% of 10000" in line


def test_export_refuses_an_existing_file_without_overwrite(tmp_path, capsys):
    from model_zoo.models import get_model
    from model_zoo.packed_weights import read_packed_weights

    checkpoint = tmp_path / "m.weights.h5"
    get_model("binarynet_mlp_2048").save_weights(checkpoint)
    output = tmp_path / "m.npz"
    output.write_bytes(b"keep me")
    args = ["export", str(checkpoint), str(output), "--model", "binarynet_mlp_2048"]
    assert main(args) == 2
    assert "m.npz exists; pass --overwrite to replace it" in capsys.readouterr().err
    assert output.read_bytes() == b"keep me"
    assert main([*args, "--overwrite"]) == 0
    meta, _ = read_packed_weights(output)
    assert meta["model"] == "binarynet_mlp_2048"


def _bench_lines(out: str) -> list[str]:
    lines = out.splitlines()
    header = ["batch", "float", "ms", "popcount", "ms", "speed-up"]
    start = next(i for i, line in enumerate(lines) if line.split() == header)
    return lines[start:]


def test_bench_prints_latency_table_and_agreement_on_real_images(capsys):
    datasets.prepare("mnist")
    assert main(["bench", "binarynet_mlp_2048", "--weights", "mnist", "--batch-sizes", "1", "3",
                 "--repeats", "1", "--limit", "200"]) == 0
    out = capsys.readouterr().out
    assert "weights mnist" in out and "on real mnist test images" in out
    _, *rows = _bench_lines(out)
    table = [row.split() for row in rows[:2]]
    assert [cells[0] for cells in table] == ["1", "3"]
    for cells in table:
        assert len(cells) == 4 and cells[3].endswith("x")
        assert all(float(value) > 0 for value in (cells[1], cells[2], cells[3][:-1]))
    # The pretrained model's popcount path classifies real test images like its float path.
    assert rows[2].startswith("agreement on 200 mnist test images: same top class on 100.00%")
    assert len(rows) == 3


def test_bench_without_prepared_data_uses_random_inputs_and_skips_agreement(tmp_path, capsys):
    assert main(["bench", "binarynet_mlp_2048", "--batch-sizes", "2", "--repeats", "1",
                 "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "weights as initialised" in out and "random inputs (mnist is not prepared)" in out
    _, row, note = _bench_lines(out)
    assert row.split()[0] == "2"
    assert note.startswith("agreement: skipped, mnist is not prepared")
    assert "python -m model_zoo.datasets prepare mnist" in note


def test_bench_rejects_bad_batch_sizes(capsys):
    assert main(["bench", "binarynet_mlp_2048", "--batch-sizes", "0"]) == 2
    assert "batch sizes must be positive" in capsys.readouterr().err


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "overwrite=True" not in err
    return err


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process may not create files in (root ignores modes: use /sys then)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        folder = Path("/sys")  # sysfs refuses new entries, even to root
    return folder


@pytest.mark.parametrize("where", ["output-dir", "export"])
def test_unwritable_output_is_one_line_before_training(where, tmp_path, capsys):
    folder = _unwritable_folder(tmp_path)
    target = {"output-dir": ["--output-dir", str(folder / "run")],
              "export": ["--output-dir", str(tmp_path / "run"), "--export",
                         str(folder / "w.npz")]}[where]
    assert main(["train", "binarynet_mlp_2048", "--epochs", "1", *target]) == 2
    err = _one_line_error(capsys)
    assert str(folder) in err and "choose a folder you can write to" in err
    assert not (tmp_path / "run" / "checkpoint.keras").exists()  # nothing was trained


@pytest.mark.parametrize("flag,value", [
    ("--limit", "0"), ("--epochs", "-1"), ("--batch-size", "0"), ("--learning-rate", "nan"),
    ("--learning-rate", "inf"), ("--learning-rate", "0"), ("--final-learning-rate", "0.0"),
])
def test_non_positive_or_non_finite_numbers_are_refused(flag, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "binarynet_mlp_2048", flag, value, "--output-dir", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: must be a finite number > 0, got '{value}'" in err
    assert not any(tmp_path.iterdir())


def test_train_export_onto_an_existing_file_is_refused_before_training(tmp_path, capsys):
    export = tmp_path / "w.npz"
    export.write_bytes(b"keep me")
    assert main(["train", "binarynet_mlp_2048", "--epochs", "1", "--output-dir",
                 str(tmp_path / "run"), "--export", str(export)]) == 2
    err = _one_line_error(capsys)
    assert "w.npz exists; pass --overwrite to replace it" in err
    assert not (tmp_path / "run").exists() and export.read_bytes() == b"keep me"


def test_finished_run_message_names_the_cli_flag(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.keras").write_bytes(b"someone's")
    assert main(["train", "binarynet_mlp_2048", "--output-dir", str(run)]) == 2
    assert "pass --overwrite to delete it" in _one_line_error(capsys)


def test_export_onto_a_directory_names_a_file_path_with_or_without_overwrite(tmp_path, capsys):
    from model_zoo.models import get_model

    checkpoint = tmp_path / "m.weights.h5"
    get_model("binarynet_mlp_2048").save_weights(checkpoint)
    folder = tmp_path / "out"
    folder.mkdir()
    for extra in ([], ["--overwrite"]):
        assert main(["export", str(checkpoint), str(folder), "--model", "binarynet_mlp_2048",
                     *extra]) == 2
        err = _one_line_error(capsys)
        assert f"{folder} is a directory; give a file path such as {folder / 'model.npz'}" in err
    assert not any(folder.iterdir())


@pytest.mark.parametrize("replacement", [ValueError, RuntimeError])
def test_ctrl_c_that_a_library_turned_into_another_error_is_an_interruption(
        replacement, monkeypatch, capsys):
    # Keras on PyTorch can report a KeyboardInterrupt raised inside a layer's call() as
    # "Exception encountered when calling QuantDense.call()" of another type.
    def train_interrupted_inside_a_library(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler raises on the next bytecode
        except KeyboardInterrupt:
            raise replacement("Exception encountered when calling QuantDense.call().") from None
        raise AssertionError("SIGINT did not interrupt")

    monkeypatch.setattr("model_zoo.cli._train", train_interrupted_inside_a_library)
    # A terminal's Ctrl-C handling (pytest-xdist's workers ignore SIGINT).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert main(["train", "binarynet_mlp_2048", "--seed", "1"]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    assert capsys.readouterr().err.splitlines() == [
        "interrupted (run the same command again to resume after the last finished epoch)"]


def test_a_real_error_without_ctrl_c_is_still_one_line(monkeypatch, capsys):
    def train_failing(args):
        raise ValueError("the data set is empty")

    monkeypatch.setattr("model_zoo.cli._train", train_failing)
    assert main(["train", "binarynet_mlp_2048", "--seed", "1"]) == 2
    assert capsys.readouterr().err.splitlines() == ["error: the data set is empty"]


def test_sigint_prints_one_line_and_the_same_command_resumes(tmp_path):
    datasets.prepare("mnist")
    run = tmp_path / "run"
    command = [sys.executable, "-m", "model_zoo", "train", "binarynet_mlp_2048", "--dataset",
               "mnist", "--epochs", "4", "--limit", "200", "--seed", "1", "--output-dir",
               str(run)]
    root = Path(__file__).resolve().parents[2]
    # A terminal's Ctrl-C: SIGINT at its default, which pytest-xdist's workers ignore and pass
    # on to their children (Python then installs no KeyboardInterrupt handler).
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        while not any((run / "backup").glob("epoch-*")) and process.poll() is None:
            time.sleep(0.05)  # polls for the first epoch's backup
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=600)
    finally:
        process.kill()
    assert process.returncode == 130, f"exit status {process.returncode}: {err[-3000:]}"
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        "interrupted (run the same command again to resume after the last finished epoch)")
    resumed = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=600,
                             check=False)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming the interrupted run in {run} after epoch" in resumed.stdout
    assert (run / "checkpoint.keras").is_file() and not (run / "backup").exists()


def test_training_commands_keep_freed_memory_and_others_do_not(tmp_path, capsys, monkeypatch):
    from keras_binary import host_memory

    calls = []
    monkeypatch.setattr(host_memory, "keep_freed_memory", lambda: calls.append(1) or True)
    assert main(["list"]) == 0
    assert calls == []
    export = tmp_path / "w.npz"
    export.write_bytes(b"keep me")
    # Refused before training, after the setting: the command's process trains.
    assert main(["train", "binarynet_mlp_2048", "--epochs", "1", "--output-dir",
                 str(tmp_path / "run"), "--export", str(export)]) == 2
    assert calls == [1]
