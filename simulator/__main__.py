"""``python -m simulator``: the same as ``chargeportal-sim``."""

import sys

from simulator.cli import main

sys.exit(main())
