"""Entry point of the driver: `python3 -I driver_main.py` (config in $PREP_DRIVER or on stdin)."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from prep_judge.driver import main  # noqa: E402

main()
