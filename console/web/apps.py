from django.apps import AppConfig


class WebConfig(AppConfig):
    """The HTML console (its template tags, its per-user language preference)."""

    name = "console.web"
    label = "web"
    verbose_name = "Console"

    def ready(self) -> None:
        from console.web import language  # noqa: F401 - connects remember_language to user_logged_in
