"""``python -m hydro.cli``: the ``hydrorisk`` command."""

import sys

from hydro.cli import main

sys.exit(main())
