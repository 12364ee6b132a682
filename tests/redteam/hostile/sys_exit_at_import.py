"""sys.exit(0) at import: a naive runner sees exit status 0 and calls it a pass."""
import sys

sys.exit(0)
