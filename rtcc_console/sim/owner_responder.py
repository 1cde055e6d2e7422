"""Simulated camera owners who answer footage requests, for ``rtcc demo`` and its tests.

Each owner reads the e-mail the server sent (``sim.smtp_sink``, a real SMTP server), follows
the link in it over real HTTP (the portal's request page, then the owner API the page's
JavaScript calls, which marks the item "opened") and answers a few seconds later, the way
the page would: an upload with ``tuspy`` (a real tus client, as ``tus-js-client`` in the
browser), "no footage for that time" or "declined". Answers follow ``plan`` in turn; the
first answer of the demo is an upload, so evidence arrives early.

The uploaded clips are made once per run by :class:`ClipShelf` on a worker thread: short,
small H.264 clips panned over real photographs (Debian's darknet samples: a street with a
pickup truck and a bicycle; a field a pickup drives across; giraffes, no vehicle), so that the
vault's vehicle sort finds cars and trucks in some and nothing in others. Each owner sends
its own bytes (one ISO BMFF ``free`` box of random padding): owners' files differ in life, and
the vault stores the same bytes once.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import secrets
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import av
import requests

from rtcc_console.sim.smtp_sink import SmtpSink

log = logging.getLogger(__name__)
AnswerKind = Literal["upload", "no_footage", "declined"]
DEFAULT_PLAN: tuple[AnswerKind, ...] = ("upload", "no_footage", "declined", "upload")
LINK = re.compile(r"(https?://[^\s<>\"']+?)/portal/requests/([A-Za-z0-9_\-]{20,})")
CLIP_SIZE = (480, 270)
CLIP_FPS = 10


@dataclass(frozen=True, slots=True)
class OwnerAnswer:
    """What one simulated owner did with one e-mail."""

    item_id: str
    kind: AnswerKind
    state: str  # the item's state the server answered
    evidence_id: str | None = None
    sha256: str | None = None  # of the bytes sent, equal to the vault's receipt
    filename: str | None = None


class ClipShelf:
    """Makes the demo's clips once, off the caller's thread; ``wait()`` hands them out."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.clips: list[Path] = []
        self.error: str | None = None
        self.seconds = 0.0  # time it took
        self.ready = threading.Event()

    def start(self) -> ClipShelf:
        threading.Thread(target=self._make, name="demo-clips", daemon=True).start()
        return self

    def wait(self, timeout: float) -> list[Path]:
        """The clips; colour bars (made at once) when the real ones are not there in time
        (photographs being fetched, or not to be had): the story goes on without vehicles."""
        if self.ready.wait(timeout) and self.clips:
            return list(self.clips)
        return colour_bar_clips(self.folder)

    def _make(self) -> None:
        t0 = time.perf_counter()
        try:
            self.clips = make_demo_clips(self.folder)
        except Exception as exc:  # noqa: BLE001 - owners then answer without uploading
            self.error = str(exc)
            log.warning("demo clips not made: %s", exc)
        finally:
            self.seconds = time.perf_counter() - t0
            log.info(
                "owners' clips ready in %.1f s: %s", self.seconds, [p.name for p in self.clips]
            )
            self.ready.set()


def make_demo_clips(folder: Path) -> list[Path]:
    """The clips owners upload (made once; files already in ``folder`` are reused).

    From real photographs when Debian's darknet samples are at hand (no network needed once
    cached); otherwise moving colour bars, so the story still runs (without vehicles)."""
    from rtcc_console.sim.darknet_photos import PhotosUnavailable, photos_dir

    folder.mkdir(parents=True, exist_ok=True)
    try:
        photos = photos_dir()
    except PhotosUnavailable as exc:
        log.warning("no real photographs for the demo clips (%s): colour bars instead", exc)
        return colour_bar_clips(folder)
    from rtcc_console.sim.vehicle_clips import Segment, Sprite, read_photo, write_clip

    dog, horses, giraffe = (
        read_photo(photos / n) for n in ("dog.jpg", "horses.jpg", "giraffe.jpg")
    )
    h, w = dog.shape[:2]
    pickup = dog[int(0.08 * h) : int(0.33 * h), int(0.55 * w) : w]
    plans = {
        # a street: the camera pans over a parked pickup truck and a bicycle
        "driveway-street.mp4": [Segment(dog, 4.0, (0.0, 0.0, 0.9, 0.9), (0.1, 0.1, 0.9, 0.9))],
        # a field behind a fence: a pickup drives across the frame
        "backyard-road.mp4": [
            Segment(horses, 1.0, (0.0, 0.0, 0.95, 0.95)),
            Segment(
                horses,
                3.0,
                (0.0, 0.0, 0.95, 0.95),
                sprite=Sprite(pickup, 0.45, (-0.1, 0.7), (1.1, 0.7)),
            ),
        ],
        # a zoo camera: no vehicle at all (the sort must find nothing here)
        "zoo-gate.mp4": [Segment(giraffe, 3.0, (0.0, 0.0, 0.9, 0.9), (0.1, 0.05, 0.9, 0.9))],
    }
    out: list[Path] = []
    for name, segments in plans.items():
        path = folder / name
        if not path.exists():
            write_clip(path, segments, size=CLIP_SIZE, fps=CLIP_FPS, bit_rate=600_000)
        out.append(path)
    return out


def colour_bar_clips(folder: Path) -> list[Path]:
    """Two short clips of moving colour bars (no vehicles), made in a fraction of a second."""
    from rtcc_console.sim.vault_media import make_mp4

    folder.mkdir(parents=True, exist_ok=True)
    return [
        p if p.exists() else make_mp4(p, seconds=3.0, size=CLIP_SIZE, seed=i)
        for i, p in enumerate(folder / f"bars-{i}.mp4" for i in range(2))
    ]


def own_copy(clip: Path, dest: Path, recorded_at: datetime | None = None) -> Path:
    """``clip`` as this owner's camera wrote it: stamped with the time it was recorded (MP4
    ``creation_time``, copied without re-encoding) and a ``free`` box of random bytes appended,
    a valid MP4 with its own hash."""
    from rtcc_console.sim.vault_media import pad_to

    dest.parent.mkdir(parents=True, exist_ok=True)
    if recorded_at is None:
        shutil.copyfile(clip, dest)
    else:
        stamp = recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        with av.open(str(clip)) as src, av.open(str(dest), "w", format="mp4") as out:
            out.metadata["creation_time"] = stamp
            stream = out.add_stream_from_template(src.streams.video[0])
            for packet in src.demux(src.streams.video[0]):
                if packet.dts is None:
                    continue
                packet.stream = stream
                out.mux(packet)
    return pad_to(dest, dest.stat().st_size + 16 + 48, fill=secrets.token_bytes(48))


def recorded_time(item: dict[str, object], rng: random.Random) -> datetime | None:
    """A moment inside the item's requested window (when the owner's camera saw it)."""
    try:
        start = datetime.fromisoformat(str(item["window_start"]))
        end = datetime.fromisoformat(str(item["window_end"]))
    except (KeyError, ValueError):
        return None
    if end <= start:
        return None
    return start + (end - start) * rng.uniform(0.3, 0.7)


def links_in(text: str) -> list[tuple[str, str]]:
    """(origin, token) of every footage-request link in an e-mail's text."""
    return [(m.group(1), m.group(2)) for m in LINK.finditer(text)]


class OwnerResponder(threading.Thread):
    """Answers every footage-request e-mail that reaches ``sink``, one every few seconds."""

    def __init__(
        self,
        sink: SmtpSink,
        clips: ClipShelf,
        workdir: Path,
        *,
        plan: Sequence[AnswerKind] = DEFAULT_PLAN,
        pause_s: tuple[float, float] = (1.0, 2.5),
        seed: int = 1,
        timeout_s: float = 15.0,
        clip_wait_s: float = 30.0,
    ) -> None:
        super().__init__(name="demo-owners", daemon=True)
        if not plan:
            raise ValueError("plan: at least one answer kind")
        self.sink, self.clips, self.workdir = sink, clips, workdir
        self.plan, self.pause_s, self.timeout_s = tuple(plan), pause_s, timeout_s
        self.clip_wait_s = clip_wait_s  # then colour bars: the story must not stall
        self.rng = random.Random(seed)
        self.answers: list[OwnerAnswer] = []
        self.failures: list[str] = []
        self.answered = threading.Condition()  # notified on each answer and each failure
        self._seen_tokens: set[str] = set()
        self._read = 0
        self._halt = threading.Event()
        self._http = requests.Session()

    # -- the loop --------------------------------------------------------------------
    def run(self) -> None:
        while not self._halt.is_set():
            self.sink.wait_for(self._read + 1, timeout=0.5)
            messages = self.sink.messages
            for received in messages[self._read :]:
                self._read += 1
                text = self._text(received.message())
                for origin, token in links_in(text):
                    if token in self._seen_tokens:
                        continue  # a reminder of a link already followed
                    self._seen_tokens.add(token)
                    if self._halt.wait(self.rng.uniform(*self.pause_s)):
                        return
                    self._answer(origin, token)
        self._http.close()

    def stop(self) -> None:
        self._halt.set()

    def wait_for(self, n: int, timeout: float) -> bool:
        """Block until ``n`` answers were given (False on timeout)."""
        with self.answered:
            return self.answered.wait_for(lambda: len(self.answers) >= n, timeout)

    @staticmethod
    def _text(msg: object) -> str:
        from email.message import EmailMessage

        if not isinstance(msg, EmailMessage):
            return ""
        part = msg.get_body(preferencelist=("plain", "html"))
        return str(part.get_content()) if part is not None else ""

    # -- one owner -------------------------------------------------------------------
    def _answer(self, origin: str, token: str) -> None:
        kind = self.plan[len(self.answers) % len(self.plan)]
        try:
            page = self._http.get(f"{origin}/portal/requests/{token}", timeout=self.timeout_s)
            page.raise_for_status()  # the page the owner's browser shows
            api = f"{origin}/api/v1/portal/requests/{token}"
            seen = self._http.get(api, timeout=self.timeout_s)  # what the page's script reads
            if seen.status_code == 410:
                return  # answered or expired meanwhile: nothing to do
            seen.raise_for_status()
            item = seen.json()
            if kind == "upload" and item.get("can_upload"):
                answer = self._upload(origin, token, item)
            else:
                kind = "no_footage" if kind == "upload" else kind
                reply = self._http.post(
                    f"{api}/answer",
                    json={"answer": kind, "note": "simulated owner (demo)"},
                    timeout=self.timeout_s,
                )
                reply.raise_for_status()
                answer = OwnerAnswer(str(item["item_id"]), kind, str(reply.json()["state"]))
        except (requests.RequestException, ValueError, KeyError, OSError) as exc:
            log.warning("simulated owner could not answer: %s", exc)
            with self.answered:
                self.failures.append(str(exc))
                self.answered.notify_all()
            return
        log.info("simulated owner answered %s: %s", answer.item_id, answer.kind)
        with self.answered:
            self.answers.append(answer)
            self.answered.notify_all()

    def _upload(self, origin: str, token: str, item: dict[str, object]) -> OwnerAnswer:
        from tusclient import client as tus_client

        clips = self.clips.wait(timeout=self.clip_wait_s)
        uploads = sum(1 for a in self.answers if a.kind == "upload")
        clip = clips[uploads % len(clips)]
        cameras = item.get("cameras")
        camera = ""
        if isinstance(cameras, list) and cameras and isinstance(cameras[0], dict):
            camera = str(cameras[0].get("id") or "")
        item_id = str(item["item_id"])
        mine = own_copy(clip, self.workdir / item_id / clip.name, recorded_time(item, self.rng))
        sha256 = hashlib.sha256(mine.read_bytes()).hexdigest()
        metadata = {"request_token": token, "filename": mine.name}
        if camera:
            metadata["camera_id"] = camera
        tus = tus_client.TusClient(f"{origin}/api/v1/uploads", headers={"Upload-Token": token})
        uploader = tus.uploader(
            file_path=str(mine), chunk_size=256 * 1024, metadata=metadata, retries=2, retry_delay=1
        )
        uploader.upload()
        receipt = self._http.get(
            f"{uploader.url}/receipt", headers={"Upload-Token": token}, timeout=30.0
        )
        receipt.raise_for_status()
        got = receipt.json()
        if got.get("sha256") != sha256:
            raise ValueError(f"the vault's SHA-256 {got.get('sha256')} is not the file's {sha256}")
        return OwnerAnswer(
            item_id, "upload", "uploaded", str(got["evidence_id"]), sha256, mine.name
        )
