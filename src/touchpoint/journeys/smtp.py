"""An SMTP connection that can stop a message one step short of delivery.

SMTP hands a message over in three steps: MAIL FROM / RCPT TO, DATA and the message's lines, then a
line holding a single dot. The server takes responsibility for the message only when it reads that
dot (RFC 5321 §4.1.1.4: a connection that closes before it makes the server discard the message).
`Connection.prepare()` sends everything but the dot; `send_dot()` sends it and `read_reply()` reads
the server's answer. journeys/delivery.py commits "sent" in the database between the two: see its
docstring for why that gives exactly once.

The connection uses Django's settings, as `django.core.mail`'s SMTP backend does: EMAIL_HOST,
EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS (STARTTLS), EMAIL_USE_SSL,
EMAIL_TIMEOUT. smtplib's `sendmail()` cannot stop before the dot, so this uses its low-level
`putcmd`/`getreply`/`send`.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl

from django.conf import settings

CRLF = b"\r\n"
_EOLS = re.compile(rb"\r\n|\n|\r(?!\n)")
_LEADING_DOT = re.compile(rb"(?m)^\.")


class SMTPRefused(Exception):
    """The server said no (a 4xx is temporary, a 5xx permanent)."""

    def __init__(self, code: int, message: str, *, stage: str) -> None:
        super().__init__(f"{stage}: {code} {message}")
        self.code = code
        self.message = message
        self.stage = stage

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500


def wire_bytes(message: bytes) -> bytes:
    """The message as it travels after DATA, without the final dot: CRLF line ends, leading dots doubled."""
    data = _LEADING_DOT.sub(b"..", _EOLS.sub(CRLF, message))
    if not data.endswith(CRLF):
        data += CRLF
    return data


class Connection:
    """One SMTP session, reused for many messages."""

    def __init__(self) -> None:
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        timeout = getattr(settings, "EMAIL_TIMEOUT", None) or 30
        host, port = settings.EMAIL_HOST, settings.EMAIL_PORT
        smtp: smtplib.SMTP
        if getattr(settings, "EMAIL_USE_SSL", False):
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        if smtp.sock is not None:
            # The final dot is a 3-byte write after the message: without this, Nagle's algorithm holds
            # it until the server's delayed ACK (~40 ms a message).
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo_or_helo_if_needed()
        if getattr(settings, "EMAIL_USE_TLS", False):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        user = getattr(settings, "EMAIL_HOST_USER", "")
        if user:
            smtp.login(user, getattr(settings, "EMAIL_HOST_PASSWORD", ""))
        return smtp

    @property
    def plain_socket(self) -> socket.socket | None:
        """The TCP socket, when the session is not encrypted (another process may then end DATA)."""
        if self._smtp is None or self._smtp.sock is None or isinstance(self._smtp.sock, ssl.SSLSocket):
            return None
        return self._smtp.sock

    @property
    def smtp(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._open()
        return self._smtp

    def _command(self, command: str, args: str, *, expect: tuple[int, ...], stage: str) -> None:
        self.smtp.putcmd(command, args)
        code, reply = self.smtp.getreply()
        if code not in expect:
            raise SMTPRefused(code, reply.decode("utf-8", "replace"), stage=stage)

    def prepare(self, *, sender: str, recipients: list[str], message: bytes) -> None:
        """Send the envelope and the message, all but the final dot.

        Raises SMTPRefused when the server refuses the sender, every recipient or DATA; the
        connection is then reset and can be used for the next message.
        """
        try:
            self._command("mail", f"FROM:<{sender}>", expect=(250,), stage="MAIL FROM")
            accepted = 0
            last: SMTPRefused | None = None
            for recipient in recipients:
                try:
                    self._command("rcpt", f"TO:<{recipient}>", expect=(250, 251), stage="RCPT TO")
                    accepted += 1
                except SMTPRefused as refused:
                    last = refused
            if not accepted:
                assert last is not None
                raise last
            self._command("data", "", expect=(354,), stage="DATA")
        except SMTPRefused:
            self.reset()
            raise
        self.smtp.send(wire_bytes(message))

    def send_dot(self) -> None:
        """Write the line that ends DATA: from now on the server delivers the message."""
        self.smtp.send(b"." + CRLF)

    def read_reply(self) -> None:
        """The server's answer to the message; raises SMTPRefused unless it took it."""
        code, reply = self.smtp.getreply()
        if code != 250:
            raise SMTPRefused(code, reply.decode("utf-8", "replace"), stage="end of DATA")

    def reset(self) -> None:
        """Forget the current envelope (RSET); on any trouble, drop the connection."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.abort()

    def abort(self) -> None:
        """Drop the connection without a word: a message without its final dot is discarded."""
        if self._smtp is None:
            return
        try:
            self._smtp.close()
        except OSError:
            pass
        self._smtp = None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            self.abort()


def read_reply(sock: socket.socket) -> tuple[int, str]:
    """An SMTP reply (possibly multi-line) read straight from a socket: (code, text)."""
    lines: list[str] = []
    with sock.makefile("rb") as stream:
        while True:
            line = stream.readline(1024)
            if not line:
                raise OSError("the SMTP server closed the connection")
            lines.append(line[4:].strip().decode("utf-8", "replace"))
            if line[3:4] != b"-":
                return int(line[:3]), " ".join(lines)
