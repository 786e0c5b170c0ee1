"""Guide 6: the model zoo -- pretrained models, parameter counts, training with a paper recipe.

Run: python guides/06_model_zoo.py; python guides/render.py renders it.
"""

# %% [markdown]
# # 6. The model zoo
#
# `model_zoo` holds the published binarized architectures (BinaryNet, XNOR-Net, Binary AlexNet,
# Bi-Real Net, the LAB MLP) built from keras-binary layers with the Keras Applications
# conventions (`input_shape`, `include_top`, `weights`, `num_classes`), the training recipe of
# each paper, and pretrained weights stored at one bit per binary weight and verified by sha256
# before loading. Everything is also on the command line: `python -m model_zoo list | train |
# evaluate | export | demo`.

# %%
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np
from guide_utils import fast_or_full, mode_name, save_figure

import keras_binary as kb
from model_zoo import cli, datasets
from model_zoo.models import MODELS, get_model
from model_zoo.recipes import get_recipe
from model_zoo.training import train
from model_zoo.weights_registry import REGISTRY

print("backend:", keras.backend.backend(), "| mode:", mode_name())

# %% [markdown]
# ## What is in the zoo
#
# `python -m model_zoo list` prints each model, the data set of its recipe, the optimizer, and
# the pretrained weights shipped with their recorded test accuracy.

# %%
cli.main(["list"])

# %% [markdown]
# ## Sizes: parameters and memory per precision
#
# `kb.summary` returns the counts it prints; here only the totals per model. Binary weights
# take one bit each, so the memory column is what a packed deployment stores.

# %%
names = fast_or_full(
    ["binarynet_mlp_2048", "lab_mlp", "binarynet_cnn", "birealnet18"], list(MODELS)
)
columns = ("parameters", 12), ("binary", 12), ("float", 10), ("packed MiB", 11), ("float32 MiB", 12)
print(f"{'model':20s} " + " ".join(f"{title:>{width}s}" for title, width in columns))
for name in names:
    model = get_model(name)
    counts = kb.summary(model, print_fn=lambda line: None).params_by_precision
    binary, total = counts.get(1, 0), model.count_params()
    packed_mib = sum(bits * count for bits, count in counts.items()) / 8 / 2**20
    print(
        f"{name:20s} {total:>12,d} {binary:>12,d} {total - binary:>10,d} "
        f"{packed_mib:>11.2f} {total * 4 / 2**20:>12.2f}"
    )
    del model
keras.backend.clear_session()

# %% [markdown]
# ## Loading a pretrained model
#
# `weights="mnist"` looks the file up in the registry, checks its sha256 and loads the packed
# bits. The recorded accuracy was measured on the full real MNIST test set; the guide
# re-measures it on a slice in fast mode and on the whole set in the full run.

# %%
entry = REGISTRY[("binarynet_mlp_2048", "mnist")]
print(f"registry: {entry.filename}, sha256 {entry.sha256[:16]}...")
print(f"recorded test accuracy: {entry.test_accuracy:.4f}")
print("how it was trained:", entry.budget)
pretrained = get_model("binarynet_mlp_2048", weights="mnist")
n_test = fast_or_full(2000, 10000)
_, _, x_test, y_test = datasets.mnist_slice(0, n_test, flatten=len(pretrained.input_shape) == 2)
predictions = pretrained.predict(x_test, batch_size=500, verbose=0)
measured = float(np.mean(predictions.argmax(-1) == y_test))
print(f"measured accuracy on the first {n_test} test images: {measured:.4f}")

# %% [markdown]
# ## Training a zoo model with its paper's recipe
#
# `get_recipe` returns the paper's optimizer, learning-rate schedule, loss and batch size for a
# model and data set; `model_zoo.training.train` compiles the zoo model with it and runs
# `model.fit` on the tfds data set (prepared offline by `model_zoo.datasets.prepare`), with a
# checkpoint per epoch, resumption and TensorBoard logs in `output_dir`. The same run from the
# shell: `python -m model_zoo train lab_mlp --dataset mnist --epochs 50`. In fast mode the run is
# cut to a few epochs on a slice of the data (`limit`), and the printed recipe shows the
# schedule that was actually used.

# %%
epochs = fast_or_full(2, 50)
recipe = get_recipe("lab_mlp", "mnist", epochs=epochs)
for field in (
    "optimizer",
    "learning_rate",
    "schedule",
    "decay_epochs",
    "loss",
    "batch_size",
    "epochs",
    "source",
):
    print(f"{field:>14s}: {getattr(recipe, field)}")

# %%
datasets.prepare("mnist")
run_dir = tempfile.TemporaryDirectory()  # checkpoints and logs; removed at the end
keras.utils.set_random_seed(0)
model, history = train(
    "lab_mlp",
    "mnist",
    epochs=epochs,
    limit=fast_or_full(2000, None),
    output_dir=run_dir.name,
    verbose=0,
)
for epoch, (train_acc, test_acc) in enumerate(
    zip(history.history["accuracy"], history.history["val_accuracy"], strict=True)
):
    print(f"epoch {epoch + 1}: train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
steps = np.arange(1, epochs + 1)
left.plot(steps, history.history["accuracy"], "o-", label="train")
left.plot(steps, history.history["val_accuracy"], "s-", label="test")
left.set(xlabel="epoch", ylabel="accuracy", title="lab_mlp with the LAB recipe")
left.set_xticks(steps)
left.legend()
bars = right.bar(
    ["recorded (full test set)", f"measured ({n_test} images)"], [entry.test_accuracy, measured]
)
right.bar_label(bars, fmt="%.4f")
right.set(ylim=(0, 1), ylabel="accuracy", title="pretrained binarynet_mlp_2048 on MNIST")
fig.tight_layout()
save_figure(fig, "06_zoo")
run_dir.cleanup()
