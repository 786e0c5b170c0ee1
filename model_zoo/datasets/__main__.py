"""``python -m model_zoo.datasets ...``: see :mod:`model_zoo.datasets.cli`."""

import sys

from model_zoo.datasets.cli import main

if __name__ == "__main__":  # importing the module (the API reference does) runs nothing
    sys.exit(main())
