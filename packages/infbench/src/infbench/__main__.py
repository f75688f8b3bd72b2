"""``python -m infbench`` = the ``infbench`` console script."""

import sys

from infbench.cli import main

sys.exit(main())
