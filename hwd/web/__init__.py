"""The web kit that both web apps share (hwd-ui's pages and hwd-central's county pages): who a
client is by its address (and behind a configured proxy), and the security pieces every page
server needs — the session key file, CSRF, security headers, error answers, server-side
sessions, login throttles, safe redirects, the stored password hash. The apps import it; the
daemon imports only what needs no Flask (the address keying, for the clerks' PIN throttle; the
config checks and login keys of ``[ui]`` and ``[central]``: checks, fields, passwords)."""
