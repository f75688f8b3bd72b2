"""``python -m sparsing_law`` = ``sparsing-law`` (also under ``torchrun -m sparsing_law measure …``)."""

import sys

from sparsing_law.cli import main

sys.exit(main())
