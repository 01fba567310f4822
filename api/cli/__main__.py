"""`python -m api.cli`: the `goals` command."""

import sys

from api.cli.main import main

sys.exit(main())
