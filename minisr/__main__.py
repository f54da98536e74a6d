"""``python -m minisr ...``: the same command line as the ``minisr`` console script."""
import sys

from minisr.cli import main

if __name__ == "__main__":
    sys.exit(main())
