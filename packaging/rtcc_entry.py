"""Entry point of the packaged console (PyInstaller): the same `rtcc` dispatcher."""

import multiprocessing
import sys

from rtcc_console.cli import main

if __name__ == "__main__":
    # Worker processes (the vehicle indexer, multiprocessing's resource tracker) start this
    # same executable; freeze_support runs them instead of the `rtcc` dispatcher.
    multiprocessing.freeze_support()
    sys.exit(main())
