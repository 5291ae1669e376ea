"""A small process that finishes a worker's email when the worker is killed at the wrong moment.

journeys/delivery.py commits "sent" and then writes SMTP's final dot. A worker killed between the two
would lose the message: the row says sent, the server never got the dot. The guardian closes that
gap. Before each commit the worker passes it a duplicate of the SMTP socket (SCM_RIGHTS over a Unix
socket pair) with the row and attempt it is about to commit, and releases it once the dot's reply
is read. The guardian runs in its own session, so a kill of the worker's process group leaves it
alive; and because it holds a copy of the socket, the SMTP connection stays open when the worker
dies. When the worker's end of the pair closes (it died) while a message is held, the guardian
asks the database what happened, waiting for the dead worker's transaction to end:

- the row is SENT at that attempt: the commit happened, so it writes the dot (and records a refusal);
- otherwise: the commit did not happen, so it closes the socket and the server discards the message,
  which a later claim sends again.

It needs a plain SMTP connection: with STARTTLS or SMTPS the TLS session lives in the dead worker, so
there the guardian stands aside (and a kill in the microseconds after the commit loses that message).

Run as `python -m touchpoint.journeys.guardian <fd>`; it imports Django only when it has work.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys

logger = logging.getLogger(__name__)


class Guardian:
    """The worker's side: starts the guardian process lazily and talks to it."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._control: socket.socket | None = None

    def _ensure(self) -> socket.socket:
        if self._control is not None and self._process is not None and self._process.poll() is None:
            return self._control
        self.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "touchpoint.journeys.guardian", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a kill of the worker's process group does not reach it
        )
        theirs.close()
        self._control = ours
        return ours

    def hold(self, connection: socket.socket, *, row_id: int, attempts: int) -> bool:
        """Hand the guardian a copy of the SMTP socket before committing this row as sent."""
        try:
            control = self._ensure()
            socket.send_fds(control, [f"hold {row_id} {attempts}".encode()], [connection.fileno()])
            return True
        except OSError:
            logger.warning("The email guardian is not available; sending without it", exc_info=True)
            self.close()
            return False

    def release(self) -> None:
        """The message is settled (the dot's reply read, or given up): the guardian lets go."""
        if self._control is None:
            return
        try:
            self._control.send(b"release")
        except OSError:
            self.close()

    def close(self) -> None:
        if self._control is not None:
            self._control.close()  # the guardian reads end-of-file with nothing held, and exits
            self._control = None
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self._process = None


def _finish(connection: socket.socket, row_id: int, attempts: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchpoint.settings")
    import django

    django.setup()
    from touchpoint.journeys.delivery import settle_orphan

    settle_orphan(connection, row_id=row_id, attempts=attempts)


def main(fd: int) -> None:
    control = socket.socket(fileno=fd)
    held: tuple[socket.socket, int, int] | None = None
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(control, 256, 1)
        except (OSError, ConnectionResetError):
            message, fds = b"", []
        if not message:
            break  # the worker is gone
        if message.startswith(b"hold") and fds:
            if held is not None:
                held[0].close()
            _word, row_id, attempts = message.split()
            held = (socket.socket(fileno=fds[0]), int(row_id), int(attempts))
        else:
            for extra in fds:
                os.close(extra)
            if held is not None:
                held[0].close()
                held = None
    if held is not None:
        _finish(*held)


if __name__ == "__main__":
    main(int(sys.argv[1]))
