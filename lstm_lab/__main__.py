"""`python -m lstm_lab ...`: the same as the `lstm-lab` command (see __init__.py)."""

import sys

from . import main

sys.exit(main())
