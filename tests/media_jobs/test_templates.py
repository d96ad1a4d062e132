"""Templates: presets ship read-only, custom ids have their own range, ranges hold in the database."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from media_jobs.encode import RenderSpec
from media_jobs.models import (
    CUSTOM_DEFINITION_START,
    AnimatedImageTemplate,
    PresetReadOnly,
    Workflow,
    WorkflowStep,
)

pytestmark = pytest.mark.django_db


def test_it_ships_tencents_presets():
    gif = AnimatedImageTemplate.objects.get(definition=20000)
    webp = AnimatedImageTemplate.objects.get(definition=20001)
    assert (gif.kind, gif.format, gif.fps, gif.width, gif.height) == ("Preset", "gif", 2, 0, 0)
    assert (webp.kind, webp.format, webp.fps) == ("Preset", "webp", 2)
    for preset in AnimatedImageTemplate.objects.filter(kind="Preset"):
        assert preset.spec().errors() == {}, preset.name
        assert preset.description


def test_presets_cannot_be_edited_or_deleted():
    preset = AnimatedImageTemplate.objects.get(definition=20000)
    preset.fps = 5
    with pytest.raises(PresetReadOnly):
        preset.save()
    with pytest.raises(PresetReadOnly):
        preset.delete()
    assert AnimatedImageTemplate.objects.get(definition=20000).fps == 2


def test_custom_templates_number_from_their_own_range():
    first = AnimatedImageTemplate.objects.create(name="first", format="webp", fps=12, width=480)
    second = AnimatedImageTemplate.objects.create(name="second")
    assert first.definition == CUSTOM_DEFINITION_START
    assert second.definition == CUSTOM_DEFINITION_START + 1
    assert first.kind == "Custom"


def test_a_preset_copy_is_an_editable_custom_template():
    preset = AnimatedImageTemplate.objects.get(definition=20003)
    copy = preset.copy("my social preview")
    assert copy.kind == "Custom" and copy.definition >= CUSTOM_DEFINITION_START
    assert copy.spec() == preset.spec()
    copy.fps = 20
    copy.save()
    assert AnimatedImageTemplate.objects.get(pk=copy.pk).fps == 20


@pytest.mark.parametrize(
    "field, value",
    [("fps", 61), ("fps", 0), ("width", 31), ("width", 4097), ("quality", 0), ("colors", 1),
     ("colors", 257), ("format", "avif"), ("scale_mode", "zoom"), ("dither", "random"), ("playback_fps", 241)],
)
def test_the_database_refuses_out_of_range_parameters(field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        AnimatedImageTemplate.objects.create(name=f"bad {field}", **{field: value})
    # The validation routine says the same thing about the same value.
    assert field in RenderSpec(**{field: value}).errors()


def test_the_database_refuses_two_ways_to_end_a_range():
    with pytest.raises(IntegrityError), transaction.atomic():
        AnimatedImageTemplate.objects.create(name="two ends", end=5, duration=3)


def test_a_template_used_by_a_workflow_cannot_be_deleted():
    template = AnimatedImageTemplate.objects.create(name="in use")
    workflow = Workflow.objects.create(name="wf")
    WorkflowStep.objects.create(workflow=workflow, position=0, template=template)
    with pytest.raises(ProtectedError):
        template.delete()
    workflow.delete()
    template.delete()
    assert not AnimatedImageTemplate.objects.filter(name="in use").exists()
