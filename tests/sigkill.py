"""Kill an ingesting subprocess with SIGKILL part way (not a test module)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).parent / "ingest_child.py"


def ingest(*args: str) -> None:
    """Run the child to the end."""
    subprocess.run(
        [sys.executable, str(CHILD), *args],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )


def ingest_and_kill(*args: str, after: int) -> int:
    """Start the child, SIGKILL it once it reports *after* events; return the last count seen."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    seen = 0
    try:
        for line in proc.stdout:
            seen = int(line)
            if seen >= after:
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=60)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, (
        "the child finished before it could be killed"
    )
    return seen


def clean_run(count: int):
    """The ledger a clean, in-memory run of the same deliveries gives."""
    from cancelflow import MemoryLedger, parse_event
    from stripe_events import links_for, many_events

    events = many_events(count)
    ledger = MemoryLedger()
    for link in links_for(events):
        ledger.record_link(link)
    for event in events:
        ledger.record_events(parse_event(event))
    return ledger, sorted({e["id"] for e in events})
