"""The preset templates that ship with Loopdeck (read-only; copy one to customise it).

20000 and 20001 are Tencent VOD's presets with the same ids; the others cover common uses.
"""

def _(text: str) -> str:
    """Marks a preset's name and description for the translation catalogues (makemessages finds
    `_("...")`); the rows keep English and the console translates them when it shows a preset."""
    return text


PRESETS: list[dict] = [
    {"definition": 20000, "name": _("GIF, source size, 2 fps"), "format": "gif", "fps": 2,
     "description": _("Tencent VOD preset 20000: a GIF at the video's own size, two frames a second, whole video.")},
    {"definition": 20001, "name": _("WebP, source size, 2 fps"), "format": "webp", "fps": 2,
     "description": _("Tencent VOD preset 20001: an animated WebP at the video's own size, two frames a second, whole video.")},
    {"definition": 20002, "name": _("GIF thumbnail 320 px, 10 fps, 3 s"), "format": "gif", "width": 320, "fps": 10,
     "duration": 3, "description": _("A small looping GIF of the first three seconds, for lists and chat apps that need GIF.")},
    {"definition": 20003, "name": _("WebP 640×360, 15 fps, 3 s from 5 s"), "format": "webp", "width": 640, "height": 360,
     "fps": 15, "start": 5, "duration": 3,
     "description": _("Alibaba VOD's example template: three seconds from the 5-second mark, for social media previews.")},
    {"definition": 20004, "name": _("WebP hover preview 480 px, 12 fps, 4 s"), "format": "webp", "width": 480, "fps": 12,
     "duration": 4, "quality": 70,
     "description": _("A light preview to play when a viewer hovers over a video tile.")},
    {"definition": 20005, "name": _("GIF high quality 480 px, 15 fps, 3 s"), "format": "gif", "width": 480, "fps": 15,
     "duration": 3, "palette_mode": "per_frame", "dither": "floyd_steinberg",
     "description": _("Smoother colour for gradients and skin tones: one palette per frame, error-diffusion dither. Larger files.")},
    {"definition": 20006, "name": _("Time-lapse WebP: 1 frame/s played at 10 fps"), "format": "webp", "width": 480,
     "interval_ms": 1000, "playback_fps": 10, "max_frames": 120,
     "description": _("One frame every second of video, played ten times faster: a quick summary of a long recording.")},
    {"definition": 20007, "name": _("Animated cover WebP 320 px, 10 fps, 3 s"), "format": "webp", "width": 320, "fps": 10,
     "duration": 3, "set_as_cover": True,
     "description": _("Becomes the video's cover when it finishes, replacing the still image in the library.")},
]


def install_presets(template_model) -> None:  # noqa: ANN001 - a model class, historical in migrations
    """Create or refresh the preset rows (used by the data migration, and by tests after a flush)."""
    for preset in PRESETS:
        fields = dict(preset)
        definition = fields.pop("definition")
        values = {**fields, "kind": "Preset"}
        # A queryset update: presets refuse Model.save() once they exist.
        if not template_model.objects.filter(definition=definition).update(**values):
            template_model.objects.create(definition=definition, **values)
