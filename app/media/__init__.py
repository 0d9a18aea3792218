"""Media processing: pure functions over file paths. No Flask, no database."""

WINDOW_S = 30  # Whisper's input: voice-activity windows are merged up to this many seconds
# A video part encoded while recording ends this far before the last frame that has arrived:
# that frame may be cut off.
PART_MARGIN_S = 1.0


class MediaError(Exception):
    """A permanent problem with the media itself, worded for a person (never retried)."""
