#!/usr/bin/python3
"""Runs the library's tests against a real hub: run.py [PATH/TO/progress-hub].

The binary comes from the argument or PROGRESS_HUB_BIN. Run with Debian's /usr/bin/python3.
"""

import os
import pathlib
import sys
import unittest

if __name__ == "__main__":
    if len(sys.argv) > 1:
        os.environ["PROGRESS_HUB_BIN"] = sys.argv[1]
    here = pathlib.Path(__file__).resolve().parent
    suite = unittest.defaultTestLoader.discover(str(here), top_level_dir=str(here))
    outcome = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if outcome.wasSuccessful() else 1)
