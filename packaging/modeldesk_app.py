"""The packaged app's entry point: the `modeldesk` command, frozen.

`ModelDesk` alone opens the desktop app (like `modeldesk`), `ModelDesk ui FILE`
opens a project (the .desktop entry's double-click), and every CLI command
works the same: `ModelDesk --version`, `ModelDesk demo demo.mdesk --no-ui`.
The Serving view starts model servers as `ModelDesk serve ...` (sys.frozen).
"""

import multiprocessing

from modeldesk.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()   # joblib/loky workers re-enter the frozen binary
    main()
