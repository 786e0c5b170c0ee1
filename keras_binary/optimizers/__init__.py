"""BNN optimizers: `Bop`, `LAB`, and `CaseOptimizer` to combine optimizers by variable.

Bop for binary kernels, Adam for the rest (Larq's recipe):

>>> import keras
>>> from keras_binary.optimizers import Bop, CaseOptimizer, is_binary_variable
>>> optimizer = CaseOptimizer((is_binary_variable, Bop()),
...                           default_optimizer=keras.optimizers.Adam(0.01))

LAB needs no router: it runs Adam on every variable and its loss-aware step on kernels binarized
by `keras_binary.quantizers.LossAwareBinarizer` (alias "lab") or ternarized by
`LossAwareTernarizer` (alias "lat").
"""

from keras_binary.docstrings import splice
from keras_binary.optimizers.bop import Bop
from keras_binary.optimizers.case_optimizer import CaseOptimizer, is_loss_aware_variable
from keras_binary.optimizers.lab import LAB
from keras_binary.precision import is_binary_variable

__all__ = [
    "LAB",
    "Bop",
    "CaseOptimizer",
    "is_binary_variable",
    "is_loss_aware_variable",
]

# Fill the shared argument and reference text ({{optimizer_keyword_args}}, ...) in.
splice(*(globals()[name] for name in __all__))
