"""`python -m model_zoo ...`: the zoo's command line (see `model_zoo.cli`)."""

import sys

from model_zoo.cli import main

if __name__ == "__main__":
    sys.exit(main())
