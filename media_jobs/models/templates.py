"""Animated image templates (preset and custom) and workflows built from them."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django.db.models import Q

from media_jobs.encode import spec as S
from media_jobs.encode.spec import RenderSpec

PRESET_DEFINITIONS = range(20000, 100000)
CUSTOM_DEFINITION_START = 100000


class PresetReadOnly(Exception):
    """Presets ship with Loopdeck; they can be copied but not edited or deleted."""


def _choices(values: tuple[str, ...], labels: dict[str, str] | None = None) -> list[tuple[str, str]]:
    labels = labels or {}
    return [(v, labels.get(v, v.replace("_", " ").capitalize())) for v in values]


def _range(field: str, lo: float, hi: float, allow_zero: bool = False, nullable: bool = False) -> Q:
    in_range = Q(**{f"{field}__gte": lo, f"{field}__lte": hi})
    if allow_zero:
        in_range |= Q(**{field: 0})
    if nullable:
        in_range |= Q(**{f"{field}__isnull": True})
    return in_range


class AnimatedImageTemplate(models.Model):
    """The parameters of an animated image, reusable by tasks and workflows.

    Field names are RenderSpec's, so `spec()` is a straight copy. Presets (`definition` 20000-99999,
    Tencent's 20000 GIF and 20001 WebP among them) come from a data migration and are read-only;
    custom templates number from 100000. Tasks copy the parameters when submitted, so editing or
    deleting a template never changes work already queued.
    """

    class Kind(models.TextChoices):
        PRESET = "Preset", _("Preset")
        CUSTOM = "Custom", _("Custom")

    class Format(models.TextChoices):
        GIF = "gif", _("GIF")
        WEBP = "webp", _("WebP")

    definition = models.PositiveIntegerField(unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CUSTOM, editable=False)
    name = models.CharField(max_length=64, unique=True)
    comment = models.CharField(max_length=256, blank=True)
    description = models.TextField(blank=True, help_text="What a preset is for (shown in the catalog).")

    format = models.CharField(max_length=4, choices=Format.choices, default=Format.GIF)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    resolution_adaptive = models.BooleanField(default=True)
    width_percent = models.PositiveIntegerField(default=0)
    height_percent = models.PositiveIntegerField(default=0)
    scale_mode = models.CharField(max_length=8, choices=_choices(S.SCALE_MODES, {
        "stretch": _("Stretch"), "fit": _("Fit"), "fill": _("Fill"), "crop": _("Crop")}), default="stretch")
    fps = models.FloatField(default=10)
    interval_ms = models.PositiveIntegerField(null=True, blank=True)
    max_frames = models.PositiveIntegerField(null=True, blank=True)
    playback_fps = models.FloatField(null=True, blank=True)
    start = models.FloatField(default=0)
    end = models.FloatField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    trim_end = models.FloatField(null=True, blank=True)
    quality = models.PositiveSmallIntegerField(default=75)
    lossless = models.BooleanField(default=False)
    colors = models.PositiveSmallIntegerField(default=256)
    dither = models.CharField(
        max_length=16,
        choices=_choices(S.DITHERS, {"none": _("None"), "bayer": _("Bayer"), "floyd_steinberg": _("Floyd–Steinberg"),
                                     "sierra2_4a": _("Sierra-2-4A")}),
        default="bayer",
    )
    palette_mode = models.CharField(
        max_length=10, choices=_choices(S.PALETTE_MODES, {"global": _("One palette per clip"),
                                                           "per_frame": _("One palette per frame")}),
        default="global",
    )
    loop = models.PositiveIntegerField(default=0)
    max_size_kb = models.PositiveIntegerField(null=True, blank=True)
    budget_order = models.CharField(max_length=40, default="quality,colors,fps,size")
    set_as_cover = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["definition"]
        constraints = [
            models.CheckConstraint(condition=Q(format__in=S.FORMATS), name="template_format_valid"),
            models.CheckConstraint(condition=_range("width", S.SIZE_MIN, S.SIZE_MAX, allow_zero=True), name="template_width_range"),
            models.CheckConstraint(condition=_range("height", S.SIZE_MIN, S.SIZE_MAX, allow_zero=True), name="template_height_range"),
            models.CheckConstraint(condition=_range("width_percent", S.PERCENT_MIN, S.PERCENT_MAX, allow_zero=True), name="template_width_percent_range"),
            models.CheckConstraint(condition=_range("height_percent", S.PERCENT_MIN, S.PERCENT_MAX, allow_zero=True), name="template_height_percent_range"),
            models.CheckConstraint(condition=Q(scale_mode__in=S.SCALE_MODES), name="template_scale_mode_valid"),
            models.CheckConstraint(condition=_range("fps", S.FPS_MIN, S.FPS_MAX), name="template_fps_range"),
            models.CheckConstraint(condition=_range("interval_ms", S.INTERVAL_MS_MIN, S.INTERVAL_MS_MAX, nullable=True), name="template_interval_range"),
            models.CheckConstraint(condition=_range("max_frames", S.MAX_FRAMES_MIN, S.MAX_FRAMES_MAX, nullable=True), name="template_max_frames_range"),
            models.CheckConstraint(condition=_range("playback_fps", S.PLAYBACK_FPS_MIN, S.PLAYBACK_FPS_MAX, nullable=True), name="template_playback_fps_range"),
            models.CheckConstraint(condition=_range("start", -S.OFFSET_MAX, S.OFFSET_MAX), name="template_start_range"),
            models.CheckConstraint(condition=_range("end", -S.OFFSET_MAX, S.OFFSET_MAX, nullable=True), name="template_end_range"),
            models.CheckConstraint(condition=Q(duration__isnull=True) | Q(duration__gt=0, duration__lte=S.OFFSET_MAX), name="template_duration_range"),
            models.CheckConstraint(condition=_range("trim_end", 0, S.OFFSET_MAX, nullable=True), name="template_trim_end_range"),
            # At most one way to say where the range ends.
            models.CheckConstraint(
                condition=(
                    Q(end__isnull=True, duration__isnull=True)
                    | Q(end__isnull=True, trim_end__isnull=True)
                    | Q(duration__isnull=True, trim_end__isnull=True)
                ),
                name="template_one_range_end",
            ),
            models.CheckConstraint(condition=_range("quality", S.QUALITY_MIN, S.QUALITY_MAX), name="template_quality_range"),
            models.CheckConstraint(condition=_range("colors", S.COLORS_MIN, S.COLORS_MAX), name="template_colors_range"),
            models.CheckConstraint(condition=Q(dither__in=S.DITHERS), name="template_dither_valid"),
            models.CheckConstraint(condition=Q(palette_mode__in=S.PALETTE_MODES), name="template_palette_mode_valid"),
            models.CheckConstraint(condition=_range("loop", S.LOOP_MIN, S.LOOP_MAX), name="template_loop_range"),
        ]

    def __str__(self) -> str:
        return f"{self.definition} {self.name}"

    @property
    def is_preset(self) -> bool:
        return self.kind == self.Kind.PRESET

    def params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in RenderSpec.field_names()}

    def spec(self) -> RenderSpec:
        return RenderSpec(**self.params())

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.is_preset and self.pk and not kwargs.pop("allow_preset", False):
            raise PresetReadOnly(f"preset template {self.definition} cannot be edited; copy it instead")
        kwargs.pop("allow_preset", None)
        if self.definition is None:
            self.definition = self.next_custom_definition()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_preset:
            raise PresetReadOnly(f"preset template {self.definition} cannot be deleted")
        return super().delete(*args, **kwargs)

    @classmethod
    def next_custom_definition(cls) -> int:
        # A unique index on definition settles the rare race between two creators; the loser
        # gets an IntegrityError rather than a duplicate id.
        last = cls.objects.filter(definition__gte=CUSTOM_DEFINITION_START).aggregate(m=models.Max("definition"))["m"]
        return (last or CUSTOM_DEFINITION_START - 1) + 1

    @transaction.atomic
    def copy(self, name: str) -> "AnimatedImageTemplate":
        """A new custom template with the same parameters."""
        params = self.params()
        return AnimatedImageTemplate.objects.create(
            name=name, comment=self.comment, set_as_cover=self.set_as_cover, **params
        )


class Workflow(models.Model):
    """A named, ordered list of animated-image steps, run at upload time or on an existing video."""

    public_id = models.UUIDField(unique=True, editable=False, default=uuid.uuid4)
    name = models.CharField(max_length=64, unique=True)
    comment = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

class WorkflowStep(models.Model):
    """One animated image a workflow makes: a template and an optional start/end override
    (Tencent offsets: negative values count from the end of the video)."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    # PROTECT: a template cannot be deleted while a workflow uses it.
    template = models.ForeignKey(AnimatedImageTemplate, on_delete=models.PROTECT, related_name="workflow_steps")
    start_time_offset = models.FloatField(null=True, blank=True)
    end_time_offset = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["workflow", "position"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "position"], name="workflow_step_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} #{self.position}: {self.template}"
