"""Media processing: pure functions over file paths. No Flask, no database."""


class MediaError(Exception):
    """A permanent problem with the media itself, worded for a person (never retried)."""
