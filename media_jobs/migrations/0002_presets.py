from django.db import migrations

from media_jobs.presets import install_presets


def add_presets(apps, schema_editor):
    install_presets(apps.get_model("media_jobs", "AnimatedImageTemplate"))


def remove_presets(apps, schema_editor):
    apps.get_model("media_jobs", "AnimatedImageTemplate").objects.filter(kind="Preset").delete()


class Migration(migrations.Migration):
    dependencies = [("media_jobs", "0001_initial")]
    operations = [migrations.RunPython(add_presets, remove_presets)]
