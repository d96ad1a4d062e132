from django.apps import AppConfig


class WebConfig(AppConfig):
    """The HTML console (its template tags need an app)."""

    name = "console.web"
    label = "web"
    verbose_name = "Console"
