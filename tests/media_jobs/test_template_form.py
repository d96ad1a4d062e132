"""The template form applies the shared validation routine and names the field at fault."""

import pytest

from media_jobs.forms import TemplateForm
from media_jobs.models import AnimatedImageTemplate

pytestmark = pytest.mark.django_db


def test_blank_parameters_take_the_defaults():
    form = TemplateForm(data={"name": "plain", "format": "webp", "fps": "12"})
    assert form.is_valid(), form.errors
    template = form.save()
    assert (template.kind, template.width, template.quality, template.scale_mode, template.end) == ("Custom", 0, 75, "stretch", None)
    assert template.definition >= 100000


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"fps": "61"}, "fps", "Must be between 1 and 60."),
        ({"width": "20"}, "width", "Must be 0 or between 32 and 4096."),
        ({"end": "5", "duration": "3"}, "duration", "Give only one of end, duration or trim from end (got end, duration)."),
        ({"start": "4", "end": "2"}, "end", "Must be after the start."),
        ({"width": "320", "width_percent": "50"}, "width_percent", "Use either a size in pixels or a percentage, not both."),
    ],
)
def test_each_rule_is_reported_beside_its_field(data, field, message):
    form = TemplateForm(data={"name": "bad", "format": "gif", **data})
    assert not form.is_valid()
    assert form.errors[field] == [message]
    assert "__all__" not in form.errors


def test_names_are_unique():
    AnimatedImageTemplate.objects.create(name="taken")
    form = TemplateForm(data={"name": "taken", "format": "gif", "fps": "10"})
    assert not form.is_valid() and "name" in form.errors
