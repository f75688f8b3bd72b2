"""``python -m gqa_cost`` = ``gqa-cost`` (also under ``torchrun -m gqa_cost sweep …``)."""

import sys

from gqa_cost.cli import main

sys.exit(main())
