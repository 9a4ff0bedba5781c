"""``python -m ganlib``: see :mod:`ganlib.cli`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ info messages on start-up

from ganlib.cli import main  # noqa: E402

sys.exit(main())
