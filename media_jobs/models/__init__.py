from .events import Delivery, DeliveryAttempt, Event, Subscription
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
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "PresetReadOnly",
    "Subscription",
    "Task",
    "Video",
    "Workflow",
    "WorkflowStep",
]
