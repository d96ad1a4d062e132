from django.apps import AppConfig


class ProcessConfig(AppConfig):
    """Holds the `serve` management command (the run command's supervisor)."""

    name = "console.process"
    label = "process"
    verbose_name = "Processes"
