"""`kadenz demo`: a month of outbound on a virtual clock, through the real engine.

The prospects' side of the world is played by a real SMTP server on localhost (aiosmtpd)
and by complete RFC 5322 replies, bounces and out-of-office notes fed through the same
inbound path that IMAP uses. Nothing here is a mock-up of the engine.
"""
