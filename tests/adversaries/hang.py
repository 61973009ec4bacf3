"""Never returns. Writes its process id first where HANG_PID_FILE says, so that a test can see it end.

It sleeps rather than spins: gradcheck's deadline is a wall clock's either way, and a spinning candidate
would take a core from the tests running beside it for as long as it hangs."""

import os
import time


def grad(params, X, y, lam, activation):
    if "HANG_PID_FILE" in os.environ:
        with open(os.environ["HANG_PID_FILE"], "w") as f:
            f.write(str(os.getpid()))
    while True:
        time.sleep(60)
