"""``python -m readin`` = ``readin``."""

import sys

from readin.cli import main

sys.exit(main())
