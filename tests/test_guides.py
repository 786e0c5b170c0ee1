"""Every guide runs top to bottom in fast mode on the current backend and renders its Markdown.

Each guide runs in a subprocess (`guides/render.py --out <tmp>`), so the repository is never
modified; the test checks the exit status, the printed output in the Markdown, and that every
figure the guide saves exists as a PNG and is embedded.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDES = ROOT / "guides"
sys.path.insert(0, str(GUIDES))

import render  # noqa: E402

GUIDE_SCRIPTS = sorted(GUIDES.glob("[0-9][0-9]_*.py"))
# Guides that export to Larq Compute Engine: its converter reads TensorFlow graphs, and its
# wheels (the lce extra) stop at Python 3.12.
LCE_GUIDES = {"09_deploying_with_lce"}
MULTI_WORKER_GUIDES = {"10_many_machines"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TIMEOUT_S = 420


def test_guides_are_numbered_uniquely_and_listed_in_the_index():
    numbers = [path.name[:2] for path in GUIDE_SCRIPTS]
    assert len(GUIDE_SCRIPTS) >= 7
    assert len(set(numbers)) == len(numbers)
    index = (GUIDES / "README.md").read_text()
    for path in GUIDE_SCRIPTS:
        assert f"]({path.stem}.md)" in index and f"]({path.name})" in index, path.name


def test_guides_import_no_tensorflow_on_jax_until_needed():
    """guide_utils and render are backend-neutral: importing them pulls in no TensorFlow."""
    code = "import sys; import render, guide_utils; print('tensorflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=GUIDES,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "False"


def test_parse_cells_splits_markdown_and_code_with_line_numbers():
    source = '"""doc"""\n\n# %% [markdown]\n# # Title\n#\n# text\n\n# %%\nx = 1\n\nprint(x)\n'
    cells = render.parse_cells(source)
    assert [(c.kind, c.line) for c in cells] == [("code", 1), ("markdown", 4), ("code", 9)]
    assert render.markdown_text(cells[1]) == "# Title\n\ntext"
    assert cells[2].text == "x = 1\n\nprint(x)"


def test_markdown_cell_with_code_line_is_refused():
    cell = render.Cell("markdown", "# prose\nx = 1")
    with pytest.raises(ValueError, match="not a comment"):
        render.markdown_text(cell)


def test_render_embeds_output_and_figures(tmp_path, monkeypatch):
    guide = tmp_path / "99_tiny.py"
    guide.write_text(
        '"""A tiny guide."""\n\n# %% [markdown]\n# # Tiny\n\n# %%\n'
        "import matplotlib.pyplot as plt\nfrom guide_utils import save_figure\n"
        "print(6 * 7)\nfig, ax = plt.subplots()\nax.plot([0, 1])\n"
        'save_figure(fig, "99_line")\n'
    )
    monkeypatch.setenv("KERAS_BINARY_GUIDES_FULL", "0")
    monkeypatch.setenv("KERAS_BINARY_GUIDES_OUT", str(tmp_path))  # restored after the test
    monkeypatch.setattr(sys, "path", [str(GUIDES), *sys.path])
    out = tmp_path / "out"
    markdown = render.render(guide, out).read_text()
    assert "# Tiny" in markdown and "```text\n42\n```" in markdown
    assert "![99_line](figures/99_line.png)" in markdown
    assert (out / "figures" / "99_line.png").read_bytes().startswith(PNG_MAGIC)
    assert "fast mode" in markdown and "A tiny guide" not in markdown


@pytest.mark.parametrize("guide", GUIDE_SCRIPTS, ids=[path.stem for path in GUIDE_SCRIPTS])
def test_guide_runs_in_fast_mode(guide, tmp_path):
    if guide.stem in LCE_GUIDES:
        import keras

        if keras.backend.backend() != "tensorflow":
            pytest.skip("exports to Larq Compute Engine: runs on KERAS_BACKEND=tensorflow")
        if importlib.util.find_spec("larq_compute_engine") is None:
            pytest.skip("larq-compute-engine is not installed (the lce extra)")
    if guide.stem in MULTI_WORKER_GUIDES:
        import keras

        if keras.backend.backend() == "torch":
            pytest.skip("multi-worker training runs on KERAS_BACKEND=jax or tensorflow")
    env = dict(os.environ)
    env.pop("KERAS_BINARY_GUIDES_FULL", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(GUIDES / "render.py"), str(guide), "--out", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    markdown = (tmp_path / f"{guide.stem}.md").read_text()
    assert "```text" in markdown, "the guide printed nothing"
    expected = set(re.findall(r'save_figure\(\s*\w+,\s*"(\w+)"', guide.read_text()))
    embedded = set(re.findall(r"!\[\w+\]\(figures/(\w+)\.png\)", markdown))
    assert embedded == expected
    for name in expected:
        assert (tmp_path / "figures" / f"{name}.png").read_bytes().startswith(PNG_MAGIC)


def test_a_guide_writes_to_the_output_folder_unless_asked_to_update(monkeypatch, tmp_path):
    import guide_utils

    monkeypatch.delenv("KERAS_BINARY_GUIDES_OUT", raising=False)
    monkeypatch.delenv("KERAS_BINARY_GUIDES_UPDATE", raising=False)
    assert guide_utils.output_dir() == GUIDES / "output"
    assert "/guides/output/" in (ROOT / ".gitignore").read_text().splitlines()
    monkeypatch.setenv("KERAS_BINARY_GUIDES_UPDATE", "1")
    assert guide_utils.output_dir() == GUIDES
    monkeypatch.setenv("KERAS_BINARY_GUIDES_OUT", str(tmp_path))
    assert guide_utils.output_dir() == tmp_path


def test_render_writes_to_the_output_folder_unless_asked_to_update(monkeypatch):
    calls = []
    monkeypatch.setattr(render, "render", lambda guide, out: calls.append(out) or out)
    render.main(["guides/03_quantizers.py"])
    render.main(["guides/03_quantizers.py", "--update"])
    assert calls == [GUIDES / "output", GUIDES]
