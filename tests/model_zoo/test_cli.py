"""The zoo command line: list, errors, and a tiny real training run with checkpoints."""

from __future__ import annotations

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
