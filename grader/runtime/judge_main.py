"""Entry point of the judge: `python3 -I judge_main.py` (config in $PREP_JUDGE or on stdin)."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from prep_judge.judge import main  # noqa: E402

main()
