"""Importing the zoo under the JAX backend does not import TensorFlow."""

import os
import subprocess
import sys

CODE = (
    "import sys\n"
    "import model_zoo.cli, model_zoo.demo, model_zoo.models, model_zoo.recipes\n"
    "import model_zoo.training, model_zoo.weights_registry\n"
    "model_zoo.models.binarynet_mlp(hidden_units=8)\n"
    "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
)


def test_zoo_imports_without_tensorflow_under_jax():
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_cli_help_and_list_import_no_keras():
    code = ("import sys\nfrom model_zoo.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "main(['list'])\n"
            "assert 'keras' not in sys.modules, 'keras was imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "keras-binary model zoo" in result.stdout
    assert "binarynet_mlp_2048" in result.stdout and "mnist (98.86%)" in result.stdout


def test_package_attributes_resolve_lazily():
    import model_zoo

    for name in model_zoo.__all__:
        assert getattr(model_zoo, name) is not None
    assert model_zoo.get_model is model_zoo.models.get_model


def test_the_command_line_hides_tensorflow_info_logs_but_keeps_a_users_level():
    code = ("from model_zoo.cli import quiet_framework_logs\nquiet_framework_logs()\n"
            "import os, tensorflow\nprint(os.environ['TF_CPP_MIN_LOG_LEVEL'])\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    # TensorFlow prints its "oneDNN custom operations are on" notice whatever the log level
    # (where oneDNN is on: by default on recent Xeons, and in this suite): not a line to count.
    env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "1"
    assert "cpu_feature_guard" not in result.stderr and "InitializeLog" not in result.stderr
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.stdout.strip() == "0"
