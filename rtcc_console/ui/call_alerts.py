"""Call alerts: a sound per priority, a flash of the taskbar entry, repeats that stop.

A new call (``CallTableModel.call_arrived``) sounds the priority's sound unless muted, and
asks the window manager to flash the console's taskbar entry until the window is active.
An unacknowledged call of a priority in ``repeat_priorities`` sounds again every
``alert_repeat_s`` seconds, at most ``alert_max_repeats`` times: an alert that never stops
trains people to ignore it. Acknowledging a call (selecting it, or the acknowledge key)
ends its repeats.

Sounds are short tones generated once into the cache folder (no media files in the
repository); ``QSoundEffect`` plays them. Offscreen (tests, headless demo) nobody can hear,
so the player only records what it would have played.
"""

from __future__ import annotations

import logging
import math
import os
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtWidgets import QApplication, QWidget

from rtcc_console.core.models import DispatchCall

log = logging.getLogger(__name__)

#: name -> (frequency Hz, duration s) tones played one after another
SOUNDS: dict[str, list[tuple[float, float]]] = {
    "urgent": [(880.0, 0.12), (0.0, 0.05), (1175.0, 0.12), (0.0, 0.05), (1480.0, 0.2)],
    "chime": [(660.0, 0.15), (0.0, 0.05), (880.0, 0.2)],
    "soft": [(520.0, 0.18)],
}
RATE = 22_050


def write_tone(path: Path, tones: list[tuple[float, float]]) -> Path:
    """A 16-bit mono WAV of the given tones (0 Hz = silence), with 5 ms fades."""
    frames = bytearray()
    for freq, dur in tones:
        n = int(RATE * dur)
        fade = max(1, int(RATE * 0.005))
        for i in range(n):
            env = min(1.0, i / fade, (n - i) / fade)
            value = 0.0 if freq <= 0 else 0.45 * env * math.sin(2 * math.pi * freq * i / RATE)
            frames += struct.pack("<h", int(value * 32767))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return path


class SoundPlayer(Protocol):
    def play(self, name: str) -> None: ...


class QtSoundPlayer:
    """Plays the named sounds with QSoundEffect; records only when offscreen."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir / "sounds"
        self.played: list[str] = []
        self._effects: dict[str, Any] = {}
        self._audible = os.environ.get("QT_QPA_PLATFORM", "") not in ("offscreen", "minimal")

    def play(self, name: str) -> None:
        if name not in SOUNDS:
            log.warning("unknown alert sound %r", name)
            return
        self.played.append(name)
        if not self._audible:
            return
        try:
            effect = self._effects.get(name)
            if effect is None:
                from PySide6.QtMultimedia import QSoundEffect

                path = self.cache_dir / f"{name}.wav"
                if not path.exists():
                    write_tone(path, SOUNDS[name])
                effect = QSoundEffect()
                effect.setSource(QUrl.fromLocalFile(str(path)))
                self._effects[name] = effect
            effect.play()
        except (ImportError, OSError) as exc:  # no audio stack: the visual alert remains
            log.warning("alert sound unavailable (%s); beeping instead", exc)
            QApplication.beep()


@dataclass
class _Pending:
    call: DispatchCall
    repeats_left: int
    next_at: float


class CallAlerter(QObject):
    """Decides what a new call sounds like and when it stops."""

    alerted = Signal(str, str)  # call id, sound name ("" = silent)

    def __init__(
        self,
        *,
        sounds: dict[int, str],
        player: SoundPlayer,
        window: Callable[[], QWidget | None],
        repeat_s: float,
        max_repeats: int,
        muted: bool = False,
        repeat_priorities: frozenset[int] = frozenset({1}),
        monotonic: Callable[[], float] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.sounds = dict(sounds)
        self.player = player
        self._window = window
        self.repeat_s = repeat_s
        self.max_repeats = max_repeats
        self.muted = muted
        self.repeat_priorities = repeat_priorities
        import time

        self._monotonic = monotonic or time.monotonic
        self._pending: dict[str, _Pending] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.check_repeats)
        self._timer.start()

    def set_muted(self, muted: bool) -> None:
        self.muted = muted

    def call_arrived(self, call: DispatchCall) -> None:
        sound = self.sounds.get(call.priority, "")
        self._sound(call.id, sound)
        window = self._window()
        if window is not None and call.priority <= 2:
            QApplication.alert(window, 0)  # flash the taskbar entry until activated
        if sound and call.priority in self.repeat_priorities and self.max_repeats > 0:
            self._pending[call.id] = _Pending(
                call, self.max_repeats, self._monotonic() + self.repeat_s
            )

    def acknowledged(self, call_id: str) -> None:
        self._pending.pop(call_id, None)

    def check_repeats(self) -> None:
        now = self._monotonic()
        for call_id, item in list(self._pending.items()):
            if now < item.next_at:
                continue
            self._sound(call_id, self.sounds.get(item.call.priority, ""))
            item.repeats_left -= 1
            item.next_at = now + self.repeat_s
            if item.repeats_left <= 0:
                del self._pending[call_id]

    def _sound(self, call_id: str, sound: str) -> None:
        if sound and not self.muted:
            self.player.play(sound)
            self.alerted.emit(call_id, sound)
        else:
            self.alerted.emit(call_id, "")
