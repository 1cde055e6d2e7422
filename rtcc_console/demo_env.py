"""The demo's world, without Qt: camera simulator, Dallas registry, server, CAD feed.

``DemoEnvironment`` is a context manager. ``start()`` makes a temporary directory, starts
the camera simulator (``sim.cameras.SimCameraServer``), starts making the owners' clips on a
worker thread (``sim.owner_responder.ClipShelf``), seeds a Connect Dallas-shaped registry
whose integrated cameras stream from that simulator, starts a real SMTP server on loopback
(``sim.smtp_sink``) and the embedded server (dev mode, SQLite in the temporary directory)
sending the owners' footage-request e-mails to it, creates the demo users with random
passwords that only live in memory (the supervisor the console signs in as enrols a TOTP
second factor, as policy requires), starts the simulated owners who answer those e-mails
(``sim.owner_responder.OwnerResponder``) and a thread that posts simulated CAD calls: a
handful at once, then one every few seconds, some of them status updates of earlier
incidents. ``stop()`` undoes all of it, in reverse order, whatever failed on the way.
"""

from __future__ import annotations

import logging
import random
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import SecretStr

from rtcc_console.core.models import CameraKind, GeoPoint, Role, SharingMode, Tier

log = logging.getLogger(__name__)

DEMO_USER = "demo"
CAD_USER = "cad-feed"
SUPERVISOR_USER = "demo-supervisor"  # the CAD feed's: declares the featured call's emergency
CONSOLE_USER = "demo-sergeant"  # the console's: a supervisor, so the dashboard has its data


class DemoAuthenticator:
    """The console supervisor's authenticator app: enrols on the first sign-in, then gives
    codes of ever later 30-second steps (the server accepts one step either side of now and
    never a step twice)."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        self.secret: str | None = None
        self._last_step = -1
        self._lock = threading.Lock()

    def code(self) -> str:
        import pyotp

        if self.secret is None:
            raise RuntimeError("no second factor enrolled yet")
        with self._lock:
            now = int(time.time()) // 30
            step = max(now - 1, self._last_step + 1)
            if step > now + 1:  # three sign-ins within one step: wait for the next one
                time.sleep((step - 1) * 30 - time.time() + 0.05)
            self._last_step = step
            return str(pyotp.TOTP(self.secret).at(step * 30))

    def sign_in(self, api: Any) -> Any:
        """Password, then the second factor (enrolling it the first time); the SessionUser."""
        from rtcc_console.client.api import MfaRequired
        from rtcc_console.client.mfa import MfaApi

        try:
            return api.login(self.username, self.password)
        except MfaRequired as need:
            mfa = MfaApi(api)
            if need.enrol:
                self.secret = mfa.start_enrolment(need.mfa_token).secret
            return mfa.verify(need.mfa_token, self.code())


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(slots=True)
class FeedStats:
    """What the CAD feed thread has done (read by tests and the demo's status line)."""

    posted: int = 0
    failed: int = 0
    emergencies: int = 0
    incident_ids: list[str] = field(default_factory=list)


def start_camera_simulator(count: int) -> tuple[Any, str]:
    """Start ``count`` simulated cameras; return (server, URL template with ``{index}``)."""
    from rtcc_console.sim.cameras import SimCameraServer

    server = SimCameraServer(count)
    server.start()  # a simulator that cannot start is the demo's error, shown as it is
    last = count - 1
    template = server.url(last).replace(f"/cam/{last}", "/cam/{index}")
    if "{index}" not in template:
        server.stop()
        raise RuntimeError(f"unexpected camera URL shape: {server.url(last)}")
    log.info("camera simulator: %d streams at %s", count, template)
    return server, template


@dataclass(frozen=True, slots=True)
class Hotspot:
    """Where the featured call happens, and whose panic button goes with it."""

    lat: float
    lon: float
    address: str
    panic_owner_id: str | None  # owner of live-in-emergency cameras among the ranked ones


def live_hotspot(cameras: list[Any], *, k: int = 12, radius_m: float = 1000.0) -> Hotspot | None:
    """A spot whose ``k`` best-ranked cameras include the most that an analyst may view live.

    The demo's featured call happens there, so the wall has live cameras to open: a few
    hundred integrated cameras over a city leave most calls with one or none nearby.
    Candidates are the always-live cameras and the midpoints of close pairs of them,
    ranked with the console's own code (``client.nearest.options_for``).
    """
    from rtcc_console.client.nearest import options_for
    from rtcc_console.core.index import CameraIndex

    live = [
        c
        for c in cameras
        if c.tier is Tier.INTEGRATED and c.sharing_mode is SharingMode.LIVE_ALWAYS
    ]
    if not live:
        return None
    index = CameraIndex.from_cameras(cameras)
    now = datetime.now(UTC)
    candidates = [(c.location.lat, c.location.lon, c.address) for c in live]
    for i, a in enumerate(live):
        for b in live[i + 1 :]:
            if (
                abs(a.location.lat - b.location.lat) < 0.006
                and abs(a.location.lon - b.location.lon) < 0.007
            ):
                candidates.append(
                    (
                        (a.location.lat + b.location.lat) / 2,
                        (a.location.lon + b.location.lon) / 2,
                        a.address,
                    )
                )

    def live_count(lat: float, lon: float) -> int:
        options = options_for(
            index, GeoPoint(lat, lon), k=k, radius_m=radius_m, role=Role.ANALYST, now=now
        )
        return sum(1 for o in options if o.action == "live")

    lat, lon, address = max(candidates, key=lambda c: live_count(c[0], c[1]))
    lat, lon = round(lat + 0.0004, 6), round(lon + 0.0003, 6)
    options = options_for(
        index, GeoPoint(lat, lon), k=k, radius_m=radius_m, role=Role.ANALYST, now=now
    )
    panic = [
        o.camera
        for o in options
        if o.camera.sharing_mode is SharingMode.LIVE_IN_EMERGENCY
        and o.camera.tier is Tier.INTEGRATED
        and o.camera.owner_id
    ]
    # a business or school has a panic button (an alarm panel); anyone else's emergency is
    # declared by a supervisor
    panic.sort(key=lambda c: c.kind not in (CameraKind.BUSINESS, CameraKind.SCHOOL))
    return Hotspot(lat, lon, address or "Dallas, TX", panic[0].owner_id if panic else None)


class CadFeed(threading.Thread):
    """Posts generated calls with current times: ``initial`` at once, then one per interval."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        seed: int = 1,
        initial: int = 6,
        interval_s: tuple[float, float] = (5.0, 8.0),
        featured: Hotspot | None = None,
        supervisor: tuple[str, str] | None = None,
        panic_panel: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(name="demo-cad-feed", daemon=True)
        from rtcc_console.sim.cad import generate_calls
        from rtcc_console.sim.cad_post import CallPoster

        self.rng = random.Random(seed)
        now = datetime.now(UTC)
        # Only calls with coordinates: the demo shows them on the map at once.
        records = generate_calls(self.rng, 400, now, id_prefix=f"DEMO-{now:%H%M%S}")
        self.records = [r for r in records if r.get("lat") is not None]
        self.poster = CallPoster(
            base_url, username=username, password=password, give_up_after_s=20.0
        )
        self.initial, self.interval_s = initial, interval_s
        self.featured, self.supervisor = featured, supervisor
        self.panic_panel = panic_panel  # the featured site's alarm panel (True: pressed)
        self.base_url = base_url
        self.stats = FeedStats()
        self._halt = threading.Event()
        self._reported: dict[str, str] = {}

    def _retime(self, record: dict[str, Any], moment: datetime) -> dict[str, Any]:
        """The record as if the CAD sent it at ``moment`` (updates keep their reported time)."""
        stamp = moment.isoformat()
        reported = self._reported.setdefault(record["incident_id"], stamp)
        return {**record, "reported_at": reported, "updated_at": stamp}

    def post(self, record: dict[str, Any], moment: datetime) -> None:
        from rtcc_console.sim.cad_post import to_outgoing

        try:
            ok = self.poster.deliver(to_outgoing(self._retime(record, moment), "simple"))
        except Exception as exc:  # noqa: BLE001 - the feed must outlive one bad post
            log.warning("CAD feed: %s not posted: %s", record["incident_id"], exc)
            ok = False
        if ok:
            self.stats.posted += 1
            if record["incident_id"] not in self.stats.incident_ids:
                self.stats.incident_ids.append(record["incident_id"])
        else:
            self.stats.failed += 1

    def _second_factor(self, api: str, challenge: dict[str, Any]) -> Any:
        """The demo supervisor's authenticator: enrol once, then answer real TOTP codes."""
        import time

        import pyotp
        import requests

        token = challenge["mfa_token"]
        if challenge.get("mfa_enrol"):
            enrol = requests.post(f"{api}/auth/mfa/enrol", json={"mfa_token": token}, timeout=10)
            enrol.raise_for_status()
            self._totp_secret = str(enrol.json()["secret"])
        secret = getattr(self, "_totp_secret", None)
        if secret is None:
            raise RuntimeError("the demo supervisor has a second factor this demo did not enrol")
        # the next 30 s step: never the step of a code already used in this demo run
        code = pyotp.TOTP(secret).at(int(time.time()) + 30)
        return requests.post(f"{api}/auth/mfa", json={"mfa_token": token, "code": code}, timeout=10)

    def press_panic_button(self, owner_id: str) -> None:
        """The business at the featured call presses its panic button (an emergency)."""
        import requests

        assert self.supervisor is not None
        api = self.poster.base
        try:
            login = requests.post(
                f"{api}/auth/login",
                timeout=10,
                json={"username": self.supervisor[0], "password": self.supervisor[1]},
            )
            if login.status_code == 401 and login.json().get("mfa_required"):
                login = self._second_factor(
                    api, login.json()
                )  # supervisors sign in with MFA (CJIS)
            login.raise_for_status()
            reply = requests.post(
                f"{api}/emergencies",
                timeout=10,
                headers={"Authorization": f"Bearer {login.json()['access_token']}"},
                json={
                    "owner_id": owner_id,
                    "reason": "Panic button: robbery in progress",
                    "duration_s": 3600,
                },
            )
            reply.raise_for_status()
            self.stats.emergencies += 1
        except Exception as exc:  # noqa: BLE001 - the demo goes on without it
            log.warning("demo panic button not pressed: %s", exc)

    def run(self) -> None:
        backlog = self.records[: self.initial]
        start = datetime.now(UTC)
        for i, record in enumerate(backlog):  # the last few minutes, oldest first
            self.post(
                record, start.replace(microsecond=0) - (len(backlog) - i) * timedelta(minutes=3)
            )
        if self.featured is not None and backlog:  # the newest call, where live cameras are
            spot = self.featured
            self.post(
                {
                    **backlog[0],
                    "incident_id": f"{backlog[0]['incident_id']}-F",
                    "type_code": "ROBIP",
                    "type_text": "Robbery in progress",
                    "priority": 1,
                    "lat": spot.lat,
                    "lon": spot.lon,
                    "address": spot.address,
                    "status": "pending",
                },
                datetime.now(UTC),
            )
            if spot.panic_owner_id and self.panic_panel is not None and self.panic_panel():
                self.stats.emergencies += 1
            elif spot.panic_owner_id and self.supervisor:
                self.press_panic_button(spot.panic_owner_id)
        for record in self.records[self.initial :]:
            if self._halt.wait(self.rng.uniform(*self.interval_s)):
                return
            self.post(record, datetime.now(UTC))

    def stop(self) -> None:
        self._halt.set()


class DemoEnvironment:
    """Everything the console needs to show a live demo, on loopback, in a temp directory."""

    def __init__(
        self,
        *,
        streams: int = 16,
        seed: int = 2024,
        n_registered: int = 2306,
        n_integrated: int = 276,
        initial_calls: int = 6,
        call_interval_s: tuple[float, float] = (5.0, 8.0),
    ) -> None:
        self.streams, self.seed = streams, seed
        self.n_registered, self.n_integrated = n_registered, n_integrated
        self.initial_calls, self.call_interval_s = initial_calls, call_interval_s
        self.username = DEMO_USER
        self.password = secrets.token_urlsafe(18)  # in memory only
        self._cad_password = secrets.token_urlsafe(18)
        self._supervisor_password = secrets.token_urlsafe(18)
        self.authenticator = DemoAuthenticator(CONSOLE_USER, secrets.token_urlsafe(18))
        self.sink: Any = None  # sim.smtp_sink.SmtpSink: the agency's mail relay, on loopback
        self.clips: Any = None  # sim.owner_responder.ClipShelf
        self.owners: Any = None  # sim.owner_responder.OwnerResponder
        self.tmp: Path | None = None
        self.base_url = ""
        self.simulator: Any = None
        self.server: Any = None
        self.feed: CadFeed | None = None
        self.timings: dict[str, float] = {}
        self.hotspot: Hotspot | None = None
        self.school: Any = None  # the owner portal's demo school (demo_portal.DemoSchool)

    @property
    def credentials(self) -> tuple[str, str]:
        """The demo analyst's sign-in (an analyst's view: no dashboard, no audit)."""
        return self.username, self.password

    @property
    def console_credentials(self) -> tuple[str, str]:
        """The supervisor the demo console signs in as (with ``authenticator``'s codes)."""
        return self.authenticator.username, self.authenticator.password

    def sign_in(self, api: Any) -> Any:
        """Sign ``api`` (a ``client.api.ApiClient``) in as the console's supervisor."""
        return self.authenticator.sign_in(api)

    def start(self) -> DemoEnvironment:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from rtcc_console.config import ServerSettings
        from rtcc_console.server.embedded import EmbeddedServer
        from rtcc_console.sim.seed import generate_registry, seed_database

        t0 = time.perf_counter()
        self.tmp = Path(tempfile.mkdtemp(prefix="rtcc-demo-"))
        self.simulator, template = start_camera_simulator(self.streams)
        from rtcc_console.sim.owner_responder import ClipShelf

        self.clips = ClipShelf(self.tmp / "owner-clips").start()  # meanwhile: seed, server
        t1 = time.perf_counter()
        registry = generate_registry(
            seed=self.seed,
            n_registered=self.n_registered,
            n_integrated=self.n_integrated,
            stream_base=template,
            stream_pool=self.streams,
        )
        self.hotspot = live_hotspot(registry.cameras)
        db_url = f"sqlite:///{self.tmp / 'rtcc.sqlite'}"
        seed_database(db_url, registry)
        t2 = time.perf_counter()
        from rtcc_console.sim.smtp_sink import SmtpSink

        self.sink = SmtpSink().start()
        port = free_port()  # known before start: the e-mails' links point at this server
        settings = ServerSettings(
            dev_mode=True,
            port=port,
            portal_base_url=f"http://127.0.0.1:{port}",
            smtp_host=self.sink.host,
            smtp_port=self.sink.port,
            smtp_security="none",  # loopback to the simulated relay
            smtp_from="footage-requests@rtcc.demo",
            mail_poll_s=0.5,
            db_url=db_url,
            vault_dir=self.tmp / "vault",
            secret_key=SecretStr(secrets.token_urlsafe(32)),
            argon2_time_cost=1,
            argon2_memory_kib=8192,
            argon2_parallelism=1,
        )
        self.server = EmbeddedServer(settings)
        self.base_url = self.server.start()
        self.server.ensure_user(self.username, "analyst", self.password)
        self.server.ensure_user(CAD_USER, "analyst", self._cad_password)
        self.server.ensure_user(SUPERVISOR_USER, "supervisor", self._supervisor_password)
        self.server.ensure_user(CONSOLE_USER, "supervisor", self.authenticator.password)
        from rtcc_console.sim.owner_responder import OwnerResponder

        self.owners = OwnerResponder(self.sink, self.clips, self.tmp / "owners", seed=self.seed)
        self.owners.start()
        from rtcc_console.demo_portal import DemoSchool  # issue 12: portal + panic

        spot = (self.hotspot.lat, self.hotspot.lon) if self.hotspot else None
        self.school = DemoSchool(self.server, seed=self.seed, avoid=spot)
        self.school.start()
        t3 = time.perf_counter()
        self.timings = {"simulator_s": t1 - t0, "seed_s": t2 - t1, "server_s": t3 - t2}
        if self.initial_calls >= 0:
            panel = self._featured_panel()
            self.feed = CadFeed(
                self.base_url,
                CAD_USER,
                self._cad_password,
                seed=self.seed,
                initial=self.initial_calls,
                interval_s=self.call_interval_s,
                featured=self.hotspot,
                supervisor=(SUPERVISOR_USER, self._supervisor_password),
                panic_panel=panel,
            )
            self.feed.start()

    def _featured_panel(self) -> Callable[[], bool] | None:
        """The featured robbery's business presses its alarm panel's hold-up button (the
        structured ``emergency.panic`` path); None when no such site is near the call."""
        owner = self.hotspot.panic_owner_id if self.hotspot else None
        if owner is None:
            return None
        from rtcc_console.demo_portal import alarm_panel_key, press_alarm_panel

        key_id, secret = alarm_panel_key(self.server, owner, "front counter alarm panel")
        base, broker = self.base_url, self.server.state.broker

        def press_when_watched() -> None:
            # held until a console follows the event stream (30 s at most), so the console
            # sees the structured emergency.panic event, not only the emergency in a snapshot
            deadline = time.monotonic() + 30.0
            while broker.subscriber_count == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            press_alarm_panel(
                base,
                key_id,
                secret,
                level=4,
                location="Front counter",
                description="Hold-up alarm: robbery in progress",
            )

        def press() -> bool:
            threading.Thread(
                target=press_when_watched, name="demo-alarm-panel", daemon=True
            ).start()
            return True

        return press

    def stop(self) -> None:
        """Stop the feed, the server and the simulator; delete the temporary directory."""
        if self.school is not None:
            self.school.stop()
            self.school = None
        if self.feed is not None:
            self.feed.stop()
            self.feed.join(timeout=15)
            self.feed = None
        if self.owners is not None:
            self.owners.stop()
            self.owners.join(timeout=15)
            self.owners = None
        if self.clips is not None:  # its thread writes into the temporary directory
            self.clips.ready.wait(10)
            self.clips = None
        for name in ("server", "sink", "simulator"):
            part = getattr(self, name)
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # noqa: BLE001 - keep tearing down the rest
                    log.warning("demo %s did not stop cleanly: %s", name, exc)
                setattr(self, name, None)
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self) -> DemoEnvironment:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
