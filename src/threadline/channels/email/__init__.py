"""The email channel: SMTP in (aiosmtpd), IMAP polling (imapclient), SMTP out, threading that explains itself."""
