from django.db import migrations

from media_jobs.presets import PRESETS


def add_presets(apps, schema_editor):
    Template = apps.get_model("media_jobs", "AnimatedImageTemplate")
    for preset in PRESETS:
        fields = dict(preset)
        definition = fields.pop("definition")
        Template.objects.update_or_create(definition=definition, defaults={**fields, "kind": "Preset"})


def remove_presets(apps, schema_editor):
    Template = apps.get_model("media_jobs", "AnimatedImageTemplate")
    Template.objects.filter(kind="Preset").delete()


class Migration(migrations.Migration):
    dependencies = [("media_jobs", "0001_initial")]
    operations = [migrations.RunPython(add_presets, remove_presets)]
