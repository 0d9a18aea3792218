"""Media processing: pure functions over file paths. No Flask, no database."""

WINDOW_S = 30  # Whisper's input: voice-activity windows are merged up to this many seconds


class MediaError(Exception):
    """A permanent problem with the media itself, worded for a person (never retried)."""
