"""`summary(model)` (``kb.summary``): a Larq-style table of parameters, memory and MACs per
precision.

Counting rules are in `keras_binary.profile`: weights at their precision tag (binary weights at
1 bit), MACs at `max(input precision, weight precision)`, nested models expanded into their
layers (rows named `outer/inner`), a layer called several times profiled at its first call.

Example:

>>> import keras
>>> from keras_binary import summary
>>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])
>>> profile = summary(model, print_fn=lambda line: None)
>>> profile.total_params, profile.macs_by_precision
(7850, {32: 7840})
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from keras_binary.profile import LayerProfile, ModelProfile, profile_model

__all__ = ["LayerProfile", "ModelProfile", "format_table", "summary"]

_ALWAYS_SHOWN = (1, 32)
COMPRESSION_LABEL = "Compression (float-32 size / model size)"


def _shape_text(shape: object) -> str:
    return "?" if shape is None else str(shape)


def _kib(num_bytes: float) -> str:
    return f"{num_bytes / 1024:.2f}"


def _columns(profile: ModelProfile, include_macs: bool) -> tuple[list[int], list[int]]:
    param_bits = sorted(set(_ALWAYS_SHOWN) | set(profile.params_by_precision))
    mac_bits = sorted(set(_ALWAYS_SHOWN) | set(profile.macs_by_precision)) if include_macs else []
    return param_bits, mac_bits


def _row(layer: LayerProfile, param_bits: list[int], mac_bits: list[int]) -> list[str]:
    in_prec = "-" if layer.input_precision is None else str(layer.input_precision)
    mark = "*" if layer.macs_per_unknown_dim else ""
    return [
        layer.name,
        layer.class_name,
        in_prec,
        _shape_text(layer.output_shape),
        *(str(layer.params.get(bits, 0)) for bits in param_bits),
        _kib(layer.memory_bytes),
        *(f"{layer.macs[bits]}{mark}" if layer.macs.get(bits) else "0" for bits in mac_bits),
    ]


def format_table(profile: ModelProfile, include_macs: bool = True) -> str:
    """Renders `profile` as the text that `summary` prints.

    Args:
        profile: A `ModelProfile` (from `summary` or `keras_binary.profile.profile_model`).
        include_macs: Whether to add the MAC columns.

    Returns:
        The table, one line per layer, then the totals.
    """
    param_bits, mac_bits = _columns(profile, include_macs)
    header = [
        "Layer",
        "Type",
        "Input prec. (bit)",
        "Output shape",
        *(f"# {bits}-bit params" for bits in param_bits),
        "Memory (KiB)",
        *(f"{bits}-bit MACs" for bits in mac_bits),
    ]
    rows = [_row(layer, param_bits, mac_bits) for layer in profile.layers]
    totals = [
        "Total",
        "",
        "",
        "",
        *(str(profile.params_by_precision.get(bits, 0)) for bits in param_bits),
        _kib(profile.memory_bytes),
        *(str(profile.macs_by_precision.get(bits, 0)) for bits in mac_bits),
    ]
    widths = [max(len(r[i]) for r in (header, *rows, totals)) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return " | ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in pairs).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    out = [f'Model: "{profile.name}"', line(header), rule, *map(line, rows), rule, line(totals)]
    out += _statistics(profile, include_macs)
    if include_macs and any(layer.macs_per_unknown_dim for layer in profile.layers):
        out.append("* MACs per unit of an unknown dimension (e.g. per time step).")
    return "\n".join(out)


def _statistics(profile: ModelProfile, include_macs: bool) -> list[str]:
    ratio = profile.compression_ratio
    stats = [
        ("Total params", f"{profile.total_params:,}"),
        ("Trainable params", f"{profile.trainable_params:,}"),
        ("Non-trainable params", f"{profile.non_trainable_params:,}"),
        ("Model size (binary weights packed)", f"{_kib(profile.memory_bytes)} KiB"),
        ("Float-32 equivalent", f"{_kib(profile.float32_bytes)} KiB"),
        # Larq prints the inverse (size / float-32 size) as "Compression Ratio of Memory".
        (COMPRESSION_LABEL, "-" if ratio is None else f"{ratio:.2f}"),
    ]
    if include_macs:
        fraction = profile.binary_mac_fraction
        stats += [
            ("Number of MACs", f"{profile.total_macs:,}"),
            ("Ratio of MACs that are binary", "-" if fraction is None else f"{fraction:.4f}"),
        ]
    width = max(len(name) for name, _ in stats)
    return ["", *(f"{name.ljust(width)} : {value}" for name, value in stats)]


def summary(
    model: keras.Model,
    print_fn: Callable[[str], object] | None = None,
    include_macs: bool = True,
) -> ModelProfile:
    """Prints a table of parameters, memory and MACs per precision of `model`; returns the counts.

    Args:
        model: a built Keras model (sequential, functional or nesting other models).
        print_fn: called once per line of the table; `print` by default.
        include_macs: whether to count and show multiply-accumulates.

    Returns:
        The `ModelProfile` behind the table (per-layer counts and totals).
    """
    if print_fn is not None and not callable(print_fn):
        raise TypeError(f"print_fn must be callable, got {type(print_fn).__name__}")
    profile = profile_model(model)
    if not include_macs:
        for layer in profile.layers:
            layer.macs = {}
            layer.macs_per_unknown_dim = False
    for text_line in format_table(profile, include_macs).split("\n"):
        (print_fn or print)(text_line)
    return profile
