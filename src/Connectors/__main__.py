import sys

from Connectors.cli import main

sys.exit(main())
