from django.apps import AppConfig


class MediaJobsConfig(AppConfig):
    name = "media_jobs"
    verbose_name = "Media jobs"
    default_auto_field = "django.db.models.BigAutoField"
