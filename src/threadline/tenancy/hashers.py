"""How passwords are stored: Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).

Django's Argon2 default asks 100 MiB and 8 lanes for each hash and each sign-in: on the 2-core machine a small
business runs Threadline on, one sign-in took ~1 s of wall time while the node was busy, and a handful at once
(a shift starting) needed several hundred MiB above a node's ~260 MiB (docs/performance.md, Memory). OWASP's
Password Storage Cheat Sheet lists m=19 MiB, t=2, p=1 as the minimum for Argon2id; it is memory-hard all the same.

The algorithm's name stays `argon2`, so hashes made with Django's parameters still verify, and Django re-hashes
a password with these parameters at its next successful sign-in (`must_update`). PBKDF2 after it in
PASSWORD_HASHERS verifies the hashes of an installation older than Argon2 here, likewise upgraded at sign-in.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
