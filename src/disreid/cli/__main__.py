"""`python -m disreid.cli`: the `disreid` command, for launchers that run a module (`torchrun -m`)."""

import sys

from disreid.cli import main

sys.exit(main())
