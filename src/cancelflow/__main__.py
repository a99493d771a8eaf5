"""``python -m cancelflow``: the same as the ``cancelflow`` console script."""

from cancelflow._cli.main import main

if __name__ == "__main__":  # not when a worker process imports this module
    raise SystemExit(main())
