"""The convocatoria file: every threshold and literal the checks judge against."""

from __future__ import annotations

import datetime as dt
import hashlib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from .yamlsource import load_yaml, validate, SourceErrors, SourceError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Publication(_Strict):
    start: dt.datetime
    end: dt.datetime
    hold_after_close_h: float = 24
    timezone: str = "UTC-6"

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2024-06-02T20:00:00-06:00")
        return v


class MainJson(_Strict):
    path: str = "/json/main.json"
    cache_control: str = "no-cache, no-store, must-revalidate"


class Thresholds(_Strict):
    disk_free_gb: float = Field(gt=0)
    sftp_upload_mb_s: float = Field(gt=0)
    availability: float = Field(gt=0, le=1)
    availability_period_days: float = Field(30, gt=0)   # "mensual": the period the ratio is judged over

    @property
    def disk_free_bytes(self) -> int:
        return int(self.disk_free_gb * 10**9)

    @property
    def sftp_upload_bytes_s(self) -> float:
        return self.sftp_upload_mb_s * 10**6


class Freshness(_Strict):
    max_lag_cortes: int = 0
    max_lag_min: float = 20


class Purge(_Strict):
    fresh_within_s: float = 60
    poll_interval_s: float = 0.5


class Tls(_Strict):
    min_version: str = "1.2"
    expiry_warn_days: int = 30


class LoadDefaults(_Strict):
    users: int = 200
    spawn_rate: float = 50
    duration_s: int = 60
    max_users: int = 2000
    max_duration_s: int = 600
    p95_ms: float = 1000
    p99_ms: float = 3000
    max_error_rate: float = 0.01
    # throughput relative to what the configured visitors attempted: served (not failed) / attempted
    min_served_ratio: float = Field(0.9, gt=0, le=1)
    min_rps: float | None = Field(None, gt=0)      # an absolute floor, only when a convocatoria sets one
    # how a visitor behaves (prep_visitor locustfile): think time between requests, task weights
    poll_min_s: float = Field(2, ge=0)
    poll_max_s: float = Field(5, ge=0)
    weights: dict[str, float] = {"poll": 6, "data": 3, "page": 1}
    expect_workers_wait_s: int = Field(60, ge=1)   # distributed mode: how long the master waits for workers
    cooldown_s: float = Field(5, ge=0, le=120)     # quiet time after the load/burst before the next checks


class Ddos(_Strict):
    """II.2.d.ddos: the short, bounded burst from one client that looks for rate limiting."""

    burst_requests: int = Field(200, ge=1, le=2000)
    burst_concurrency: int = Field(20, ge=1, le=100)
    burst_max_s: float = Field(10, gt=0, le=60)
    stop_after_limited: int = Field(20, ge=1)      # stop early once this many answers were rate limited


class FetchKinds(_Strict):
    main_json: float = Field(gt=0)
    page: float = Field(gt=0)
    data: float = Field(gt=0)


class Fetch(_Strict):
    """Bounds of every HTTP request (``probes.bounded``): a total deadline (connect + first byte + whole
    body) and a body size cap per kind of file; the TCP connect alone; the difusor's web checks' bound."""

    connect_s: float = Field(3, gt=0, le=60)
    deadline_s: FetchKinds = FetchKinds(main_json=10, page=10, data=30)
    max_bytes: FetchKinds = FetchKinds(main_json=4 * 2**20, page=8 * 2**20, data=64 * 2**20)
    breaker_after: int = Field(2, ge=1, le=100)      # requests that ran out their deadline before the rest fail at once
    difusor_bound_s: float = Field(60, gt=0)       # documented: one difusor without load test or upload
    tls_scan_s: float = Field(45, gt=0, le=600)    # the whole sslyze scan of one endpoint


class Server(_Strict):
    """II.1: the server platform the call accepts (II.1.a lists the operating systems)."""

    operating_systems: tuple[str, ...] = ("Windows", "Linux", "FreeBSD", "Unix")


class Convocatoria(_Strict):
    """A call for difusores: who issued it, the publication window and every threshold."""

    id: str
    institute: str
    agreement: str = ""
    election_day: dt.date | None = None
    publication: Publication
    corte_interval_min: float = Field(gt=0)
    main_json: MainJson = MainJson()
    thresholds: Thresholds
    freshness: Freshness = Freshness()
    purge: Purge = Purge()
    tls: Tls = Tls()
    load: LoadDefaults = LoadDefaults()
    ddos: Ddos = Ddos()
    server: Server = Server()
    fetch: Fetch = Fetch()
    calendar: dict[str, dt.date] = {}
    # the call's literal sentence per section ("II.1.e": "Se deberá incluir ..."): the dictamen quotes it
    sections: dict[str, str] = {}
    _sha256: str = PrivateAttr("")      # of the file's bytes, set by the loader (never from the YAML)
    _bundled: bool = PrivateAttr(False)

    @property
    def sha256(self) -> str:
        """SHA-256 of the file it was loaded from: two convocatorias are the same only if these match."""
        return self._sha256

    def identity(self) -> dict[str, object]:
        """What every report shows: the id, the file's SHA-256 and whether it is a bundled one."""
        return {"id": self.id, "sha256": self._sha256, "bundled": self._bundled}


def bundled_dir():
    return resources.files("prep_conformance.profiles").joinpath("convocatorias")


def bundled_ids() -> list[str]:
    return sorted(p.name[:-5] for p in bundled_dir().iterdir() if p.name.endswith(".yaml"))


def _load_file(path: Path, bundled: bool) -> Convocatoria:
    conv = validate(load_yaml(path), Convocatoria)
    conv._sha256 = hashlib.sha256(path.read_bytes()).hexdigest()  # type: ignore[attr-defined]
    conv._bundled = bundled  # type: ignore[attr-defined]
    return conv  # type: ignore[return-value]


def load_convocatoria(ref: str | Path, base: Path | None = None) -> Convocatoria:
    """Load a convocatoria by bundled id (``iem-michoacan-2024``) or by path (relative to ``base``)."""
    ref_s = str(ref)
    if ref_s in bundled_ids():
        with resources.as_file(bundled_dir().joinpath(ref_s + ".yaml")) as p:
            return _load_file(Path(p), True)
    path = Path(ref_s).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.exists():
        raise SourceErrors([SourceError(ref_s, None, "convocatoria",
                                        f"not a bundled id ({', '.join(bundled_ids())}) nor an existing file")])
    return _load_file(path, False)


def pin(ref: str | Path | None) -> Convocatoria | None:
    """The convocatoria the operator pins with ``--convocatoria ID|FILE`` (a path is relative to the current
    folder); None when not pinned. ``SourceErrors`` when it cannot be loaded. Used by run, report and watch:
    load profiles with ``load_profiles(..., convocatoria=pin(ref))``."""
    if ref is None or str(ref) == "":
        return None
    return load_convocatoria(ref, Path.cwd())
