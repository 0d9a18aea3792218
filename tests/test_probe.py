"""Reading our own outputs in-process (PyAV) says what ffprobe says."""

from __future__ import annotations

import subprocess

import pytest

from app.media import MediaError
from app.media.probe import describe, probe


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=60)


@pytest.mark.parametrize("name,args", [
    ("answer.mp4", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=3", "-f", "lavfi", "-i",
                    "sine=f=440:d=3", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]),
    ("answer.m4a", ["-f", "lavfi", "-i", "sine=f=440:d=2.5", "-c:a", "aac"]),
])
def test_describe_agrees_with_ffprobe(tmp_path, name, args):
    out = tmp_path / name
    _ffmpeg(*args, "-movflags", "+faststart", str(out))
    assert describe(out) == probe(out, container="mov")


def test_describe_refuses_what_is_not_media(tmp_path):
    bogus = tmp_path / "answer.mp4"
    bogus.write_text("not a video")
    with pytest.raises(MediaError, match="not a readable"):
        describe(bogus)


def test_the_size_is_the_picture_as_shown_and_the_turn_is_kept(upright_phone):
    """Safari on an iPhone held upright stores landscape frames and a display matrix that
    turns them to portrait: the size that counts (for 720p, the poster, the player) is the
    portrait one, and both readers say so."""
    info = probe(upright_phone, container="mov")
    assert (info.width, info.height, info.rotation) == (720, 1280, 270)
    assert describe(upright_phone) == info


def test_hardening_an_upload_is_read_only_as_the_container_it_declared(tmp_path, media_dir):
    """Every reader of a candidate's upload names its container: a file of another kind (an MP4
    sent as WebM, an HLS playlist that names a local file) is refused, never guessed at."""
    from app.media.audio import extract_speech
    from app.media.transcode import encode_part, scan_frames, transcode

    ogg = tmp_path / "answer.ogg"  # the recorder's last resort for a sound-only answer
    _ffmpeg("-i", str(media_dir["speech"]), "-c:a", "libopus", str(ogg))
    assert probe(media_dir["webm"], container="matroska").video_codec == "vp8"
    assert probe(media_dir["mp4"], container="mov").video_codec == "h264"
    assert probe(ogg, container="ogg").audio_codec == "opus"
    for path, container, name in [(media_dir["mp4"], "matroska", "WebM"),
                                  (media_dir["webm"], "mov", "MP4"), (ogg, "matroska", "WebM"),
                                  (media_dir["webm"], "ogg", "Ogg")]:
        with pytest.raises(MediaError, match=f"not a readable {name} file"):
            probe(path, container=container)
    for container in (None, "hls", "concat"):
        with pytest.raises(MediaError, match="not accepted"):
            probe(media_dir["webm"], container=container)

    secret = tmp_path / "secret.ts"
    _ffmpeg("-i", str(media_dir["mp4"]), "-c", "copy", "-f", "mpegts", str(secret))
    playlist = tmp_path / "original.webm"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\n{secret.as_uri()}\n"
                        "#EXT-X-ENDLIST\n")
    info = probe(media_dir["webm"], container="matroska")  # as if the playlist had passed
    with pytest.raises(MediaError):
        extract_speech(playlist, tmp_path / "speech.wav", container="matroska")
    with pytest.raises(MediaError):
        transcode(playlist, tmp_path, info, container="matroska")
    with pytest.raises(MediaError):
        encode_part(playlist, tmp_path / "part.ts", info, 0.0, 2.0, container="matroska")
    assert scan_frames(playlist, info, container="matroska").times == ()
    assert not (tmp_path / "speech.wav").exists() and not (tmp_path / "answer.mp4").exists()


def test_hardening_the_length_is_read_from_the_packets_whatever_the_header_says(tmp_path, media_dir):
    """A browser's WebM has no duration in its header; the packets' times give the length all
    the same, and agree with the header where there is one."""
    from app.media.probe import play_length

    for path, container in [(media_dir["long"], "matroska"), (media_dir["mp4"], "mov")]:
        header = probe(path, container=container).duration_s
        assert play_length(path, container=container) == pytest.approx(header, abs=0.05)
    live = tmp_path / "live.webm"
    _ffmpeg("-i", str(media_dir["long"]), "-c", "copy", "-live", "1", "-f", "webm", str(live))
    assert probe(live, container="matroska").duration_s is None
    assert play_length(live, container="matroska") == pytest.approx(
        probe(media_dir["long"], container="matroska").duration_s, abs=0.05)
    with pytest.raises(MediaError, match="Measuring the recording failed"):
        play_length(media_dir["mp4"], container="matroska")
