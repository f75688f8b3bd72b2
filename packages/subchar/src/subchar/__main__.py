"""``python -m subchar`` = ``subchar``."""

import sys

from subchar.cli import main

sys.exit(main())
