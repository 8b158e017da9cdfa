import sys

from videossr.cli import main

sys.exit(main())
