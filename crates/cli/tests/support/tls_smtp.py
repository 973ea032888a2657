"""An SMTP server for the mail-over-TLS tests: aiosmtpd with STARTTLS
required or TLS from the first byte, AUTH PLAIN/LOGIN checked against one
account, every accepted message stored in a Maildir.

usage: tls_smtp.py starttls|implicit PORT MAILDIR CERT KEY USER PASSWORD
"""

import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    mode, port, maildir, cert, key, user, password = sys.argv[1:8]

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        # handled=False: aiosmtpd answers the refusal itself (535).
        return AuthResult(success=ok, handled=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    common = dict(
        hostname="127.0.0.1",
        port=int(port),
        authenticator=authenticate,
    )
    if mode == "starttls":
        controller = Controller(
            Mailbox(maildir),
            tls_context=context,
            require_starttls=True,
            auth_require_tls=True,
            **common,
        )
    elif mode == "implicit":
        # The whole connection is TLS; aiosmtpd only counts STARTTLS as
        # encryption for its AUTH check, so that check is off here.
        controller = Controller(
            Mailbox(maildir), ssl_context=context, auth_require_tls=False, **common
        )
    else:
        sys.exit(f"unknown mode {mode}")
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    main()
