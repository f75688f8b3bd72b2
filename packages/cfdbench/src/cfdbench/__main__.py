import sys

from cfdbench.cli import main

sys.exit(main())
