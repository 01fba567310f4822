"""`python -m cli`: the `goals` command."""

import sys

from cli.main import main

sys.exit(main())
