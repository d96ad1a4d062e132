from .tasks import AnimatedImage, Task
from .templates import (
    CUSTOM_DEFINITION_START,
    AnimatedImageTemplate,
    PresetReadOnly,
    Workflow,
    WorkflowStep,
)
from .videos import Video

__all__ = [
    "CUSTOM_DEFINITION_START",
    "AnimatedImage",
    "AnimatedImageTemplate",
    "PresetReadOnly",
    "Task",
    "Video",
    "Workflow",
    "WorkflowStep",
]
