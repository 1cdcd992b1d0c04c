"""Test settings: fast hashing, locmem e-mail, deterministic limits."""

import os
import tempfile

from .base import *  # noqa: F403
from .base import DATABASES, REST_FRAMEWORK, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A file-backed SQLite test database so that a real server process started by the
# end-to-end tests can share it with the test process.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": env(
            "SQLITE_TEST_NAME",
            default=os.path.join(tempfile.gettempdir(), f"hub-test-{os.getpid()}.sqlite3"),
        )
    }
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "1000/min", "token": "1000/min"},
}
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# Find static files on request instead of scanning them all for every test client.
WHITENOISE_AUTOREFRESH = True
# Forum trust limits (posts a minute, topics a day ... for new members) would trip tests
# that post several times as one member; the trust tests switch them on.
FORUM_TRUST_LIMITS_ENABLED = env.bool("FORUM_TRUST_LIMITS_ENABLED", default=False)
