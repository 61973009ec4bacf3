"""Never returns. Writes its process id first where HANG_PID_FILE says, so that a test can see it end."""

import os


def grad(params, X, y, lam, activation):
    if "HANG_PID_FILE" in os.environ:
        with open(os.environ["HANG_PID_FILE"], "w") as f:
            f.write(str(os.getpid()))
    while True:
        pass
