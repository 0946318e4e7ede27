"""A graceful stop returns, whatever the jobs are doing when it comes.

APScheduler's `shutdown(wait=True)` holds its job stores' lock while it waits for the running jobs, and the
sweep re-arms itself through that lock (`modify_job`) at the end of each run. A stop arriving between the
sweep's last look at `stopping` and its re-arming never returned: `desk worker` ignored SIGTERM, and a web
worker on SQLite was killed at gunicorn's graceful timeout after a SIGHUP (tests/slack/test_serve.py saw
it once in CI). Here the sweep is held at that very moment by the clock it reads there.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from tests.scheduling.conftest import Rig


def test_a_stop_that_meets_the_sweep_re_arming_itself_returns(rig: Rig) -> None:
    rig.clock.at = datetime.now(UTC)  # the scheduler runs on real time: jobs first due now, not months ago
    worker = rig.worker()
    rearming = threading.Event()
    hand_time = rig.clock.now

    def now():  # the rig's hand clock, except that the sweep's re-arming waits for the stop to be under way
        if sys._getframe(1).f_code.co_name == "_rearm_sweep" and not rearming.is_set():
            rearming.set()
            worker.stopping.wait(10)
            time.sleep(0.3)  # the stop is now inside the scheduler's shutdown
        return hand_time()

    rig.clock.now = now  # type: ignore[method-assign]
    scheduler = BackgroundScheduler(timezone="UTC")
    worker.schedule(scheduler)
    scheduler.start()
    assert rearming.wait(10), "the sweep did not run"
    stopper = threading.Thread(target=worker.stop, name="stopper", daemon=True)
    stopper.start()
    stopper.join(10)
    assert not stopper.is_alive(), "the stop never returned: the sweep waits for the scheduler's lock"
    assert not scheduler.running
