"""Settings for the test suite: the real settings, with test-only conveniences."""

import os

os.environ.setdefault("VILLE_TESTING", "1")

from ville.settings import *  # noqa: F403

# Argon2 is what production uses (tests/accounts check ville.settings); hashing it
# thousands of times would only slow the suite.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = True
