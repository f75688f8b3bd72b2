"""``python -m stuffed_mamba`` = ``stuffed-mamba``."""

import sys

from stuffed_mamba.cli import main

sys.exit(main())
