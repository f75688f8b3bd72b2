"""``python -m lc_core.train --config cfg.json`` (also ``torchrun ... -m lc_core.train``)."""

import sys

from lc_core.train.cli import main

sys.exit(main())
