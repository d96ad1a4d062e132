from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The JSON API's models (keys, idempotency records, attribution). The label stays `console`,
    the app these tables were created under, so existing databases need no migration."""

    name = "console.api"
    label = "console"
    verbose_name = "API"
