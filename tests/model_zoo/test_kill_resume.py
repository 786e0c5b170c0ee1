"""Training killed with SIGKILL at random instants (inside the checkpoint writes too) resumes each
time and ends with exactly the weights and optimizer state of an uninterrupted run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
KILLS = 30
SEED = 20261206  # the random kill instants


def _stored_arrays(checkpoint: Path) -> dict[str, np.ndarray]:
    """Every array of a `.keras` file's weights (model and optimizer), by its h5 path."""
    with zipfile.ZipFile(checkpoint) as archive:
        data = archive.read("model.weights.h5")
    arrays = {}
    with h5py.File(io.BytesIO(data), "r") as stored:
        stored.visititems(lambda name, item: arrays.__setitem__(name, item[()])
                          if isinstance(item, h5py.Dataset) else None)
    return arrays


def test_runs_killed_at_random_instants_resume_to_the_uninterrupted_weights(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [os.fspath(ROOT), os.environ.get("PYTHONPATH")]))}
    worker = Path(__file__).with_name("kill_resume_worker.py")
    result = subprocess.run(
        [sys.executable, os.fspath(worker), os.fspath(tmp_path), str(KILLS), str(SEED)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=1200, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    print(summary)
    assert summary["kills"] >= KILLS
    assert summary["inside_writes"] >= 1  # some kills interrupted a write
    expected = _stored_arrays(tmp_path / "reference" / "checkpoint.keras")
    assert any("optimizer" in name for name in expected) and len(expected) > 4
    for chain in summary["chains"]:
        directory = tmp_path / chain["directory"]
        assert not (directory / "backup").exists()
        resumed = _stored_arrays(directory / "checkpoint.keras")
        assert list(resumed) == list(expected)
        for name, value in expected.items():
            np.testing.assert_array_equal(resumed[name], value, err_msg=f"{directory}: {name}")
