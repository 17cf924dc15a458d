"""``python -m bench.defects [ids] [--quick] [--json FILE]``: see ``runner``."""
import sys

from .runner import main

sys.exit(main())
