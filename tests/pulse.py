"""A microphone that speaks, for Firefox: a private PulseAudio daemon (no system daemon, no
dbus) whose null sink plays a WAV in a loop. Firefox keeps its fake camera and, with the pref
`media.audio_loopback_dev` naming a real capture device, takes its microphone from that
device instead of its fake tone (as Mozilla's own CI does); here it is the sink's monitor."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

PULSEAUDIO = shutil.which("pulseaudio")
SINK = "speech"
# Firefox matches the pref against its device enumeration's label: the monitor's description.
MONITOR = "Monitor of Speech"


@contextmanager
def speaking_microphone(wav: Path, folder: Path) -> Iterator[tuple[dict, dict]]:
    """Run PulseAudio in `folder` and play `wav` into its sink until the block ends; yields the
    Firefox prefs and environment variables that make the sink's monitor its microphone."""
    folder.mkdir(parents=True, exist_ok=True)
    server = folder / "native"
    config = folder / "default.pa"
    # The sink first: once the socket exists, so does the device behind it.
    config.write_text(
        f"load-module module-null-sink sink_name={SINK} sink_properties=device.description=Speech\n"
        f"load-module module-native-protocol-unix socket={server} auth-anonymous=1\n")
    # Its own HOME, runtime folder and cookie, so that no client or daemon touches the user's.
    env = {"PULSE_SERVER": f"unix:{server}", "PULSE_COOKIE": str(folder / "cookie")}
    daemon_env = {**os.environ, "HOME": str(folder), "XDG_RUNTIME_DIR": str(folder)}
    with ExitStack() as stack, open(folder / "pulseaudio.log", "wb") as log:
        daemon = subprocess.Popen(
            [PULSEAUDIO, "-n", "-F", str(config), "--daemonize=no", "--use-pid-file=no",
             "--exit-idle-time=-1", "--disallow-exit", "--log-target=stderr"],
            env=daemon_env, stdout=log, stderr=subprocess.STDOUT)
        stack.callback(_stop, daemon)
        _wait_for_socket(server, daemon, folder / "pulseaudio.log")
        player = subprocess.Popen(
            ["ffmpeg", "-v", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", str(wav),
             "-f", "pulse", "-device", SINK, "oneway-speech"],
            env={**daemon_env, **env}, stdout=log, stderr=subprocess.STDOUT)
        stack.callback(_stop, player)
        yield {"media.audio_loopback_dev": MONITOR}, env
        if player.poll() is not None:  # Firefox heard silence for part of the block, if not all
            raise RuntimeError(f"the speech player stopped (exit code {player.returncode}): "
                               f"{(folder / 'pulseaudio.log').read_text(errors='replace')}")


def _wait_for_socket(path: Path, daemon: subprocess.Popen, log: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(path))
                return
        except OSError:
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PulseAudio did not start (exit code {daemon.poll()}): "
                                   f"{log.read_text(errors='replace')}") from None
            time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
