"""Mail on the wire: Jinja2 sandboxed rendering, MIME composition, SMTP and IMAP clients."""
