"""Shared set-up for the hostile tests: makes the integration harness importable."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402,F401  (re-exported for the tests)
