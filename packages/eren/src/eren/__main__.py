"""``python -m eren`` = the ``eren`` console script."""

import sys

from eren.cli import main

sys.exit(main())
