"""`python -m disreid`: the `disreid` command, where the script is not on the PATH."""

import sys

from disreid.cli import main

sys.exit(main())
