import sys

from lc_core.cli import main

sys.exit(main())
