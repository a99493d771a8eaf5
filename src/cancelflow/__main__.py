"""``python -m cancelflow``: the same as the ``cancelflow`` console script."""

from cancelflow._cli import main

raise SystemExit(main())
