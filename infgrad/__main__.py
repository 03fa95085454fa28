import sys

from infgrad.cli import main

sys.exit(main())
