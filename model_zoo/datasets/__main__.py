"""``python -m model_zoo.datasets ...``: see :mod:`model_zoo.datasets.cli`."""

import sys

from model_zoo.datasets.cli import main

sys.exit(main())
