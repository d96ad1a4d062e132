from django.apps import AppConfig


class MediaJobsConfig(AppConfig):
    name = "media_jobs"
    verbose_name = "Media jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The models announce state changes; the callbacks turn them into events and deliveries.
        from media_jobs.callbacks.events import on_state_changed
        from media_jobs.models.events import state_changed

        state_changed.connect(on_state_changed, dispatch_uid="media_jobs.callbacks.record")
