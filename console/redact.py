"""Error reports that hide credentials inside URLs.

Django's filter masks settings whose *name* looks secret (SECRET_KEY, PASSWORD, TOKEN...), but
REDIS_URL, RQ_QUEUES' URLs and DATABASE_URL in a runserver's environment carry the password in
the value. This filter masks the `user:password@` part of any URL-looking string too, in the
DEBUG error page and in mailed 500 reports alike.
"""

from __future__ import annotations

import re
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][\w+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]+@")


def redact_url_credentials(text: str) -> str:
    """`redis://:s3cret@host:6379/0` → `redis://:********@host:6379/0`."""
    return _URL_CREDENTIALS.sub(r"\g<scheme>\g<user>:********@", text)


class SafeReporterFilter(SafeExceptionReporterFilter):
    def cleanse_setting(self, key: Any, value: Any) -> Any:
        value = super().cleanse_setting(key, value)
        return redact_url_credentials(value) if isinstance(value, str) else value
