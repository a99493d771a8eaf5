"""The ``cancelflow`` command line (stdlib argparse).

May import: everything.
"""
