"""An election night in the lab, time-compressed: the institute publishes a corte every few seconds.

Real nginx processes on loopback serve the institute's own publication and each difusor's site; a
publisher thread writes corte after corte (the synthetic paquete, with the corte times running at the
compressed pace) into the paquetes folder, the reference site and every difusor's docroot, each
difusor behaving as its plan says:

- ``follow``: copies each corte shortly after it is published;
- ``lag``: stops copying between ``start_s`` and ``end_s``, then catches up;
- ``down``: its own nginx is stopped at ``start_s`` and started again at ``end_s``;
- ``altered``: from the first corte published at or after ``start_s`` until the first one at or after
  ``end_s``, serves the corte with one CSV byte changed;
- ``no_cache_control``: never sends the Cache-Control header on main.json;
- ``error``: between ``start_s`` and ``end_s`` its main.json is gone (404), then it catches up;
- ``missing``: like ``altered``, but one CSV of the corte is not there;
- ``https``: follows, over HTTPS with a certificate from the lab CA (the profile trusts it);
- ``bad_cert``: follows, over HTTPS with a self-signed certificate.

``truth`` records when each thing really happened (epoch seconds), for the tests to compare with what
the watch found. The convocatoria written for the night has the window, the corte interval and the
freshness tolerance at the same compressed pace; the profiles name it by path, so a watcher pins it
(``--convocatoria``, ``watch_args``) and is told where the paquetes arrive (``--paquetes``): profiles are
untrusted input and may not point outside their folder. Nothing is sent anywhere but 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import paquete
from ..convocatoria import bundled_dir
from . import procs

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HOST_SUFFIX = "night.prep.example"
BEHAVIOUR_ES = {"follow": "sigue cada corte", "lag": "se rezaga y se pone al día", "down": "se cae y vuelve",
                "altered": "altera un archivo un rato", "no_cache_control": "sin Cache-Control",
                "error": "responde 404 un rato", "missing": "le falta un archivo un rato",
                "https": "sigue cada corte por HTTPS", "bad_cert": "HTTPS con certificado autofirmado"}
TLS_BEHAVIOURS = ("https", "bad_cert")


@dataclass(frozen=True)
class NightDifusor:
    """One difusor of the night. Attributes: id, behaviour, start_s/end_s (seconds after the night's
    start), delay_s (after a publication, before it copies), own_server (its own nginx; implied by down)."""

    id: str
    behaviour: str = "follow"
    start_s: float = 0.0
    end_s: float = 0.0
    delay_s: float = 0.3
    own_server: bool = False


def default_plan(every_s: float = 3.0, offset_s: float = 0.0) -> list[NightDifusor]:
    """The night the tests watch: two that follow, one lagging, one down and back, one altered, one
    without the header. ``offset_s`` shifts every event later (time for a watcher to start)."""
    e, o = every_s, offset_s
    return [NightDifusor("sigue-uno"), NightDifusor("sigue-dos", delay_s=0.6),
            NightDifusor("rezagado", "lag", start_s=o + 2.5 * e, end_s=o + 9.5 * e),
            NightDifusor("se-cae", "down", start_s=o + 3.5 * e, end_s=o + 8 * e),
            NightDifusor("altera", "altered", start_s=o + 2 * e, end_s=o + 5 * e),
            NightDifusor("sin-cache", "no_cache_control"),
            NightDifusor("error-404", "error", start_s=o + 3 * e, end_s=o + 5 * e),
            NightDifusor("incompleto", "missing", start_s=o + 2 * e, end_s=o + 4 * e),
            NightDifusor("seguro", "https"), NightDifusor("autofirmado", "bad_cert")]


@dataclass
class _Server:
    name: str
    conf: Path
    ports: list[int]
    proc: Any = None
    started: int | None = None


class ElectionNight:
    """``night = ElectionNight(state_dir, port_base); night.start(); ...; night.stop()`` (or ``with``)."""

    def __init__(self, state_dir: str | Path, port_base: int, plan: list[NightDifusor] | None = None, *,
                 every_s: float = 3.0, window_s: float = 120.0, tolerance_s: float | None = None,
                 size: dict | None = None, host_names: bool = True):
        self.state = Path(state_dir)
        self.port_base = port_base
        self.every_s = every_s
        self.plan = plan if plan is not None else default_plan(every_s)
        self.window_s = window_s
        self.tolerance_s = tolerance_s if tolerance_s is not None else 1.5 * every_s
        self.size = size or dict(paquete.TINY)
        self.host_names = host_names
        self.truth: dict[str, Any] = {"published": {}, "events": []}
        self.ports: dict[str, int] = {}
        self.servers: dict[str, _Server] = {}
        self.t0: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.secuencia = 0

    # ------------------------------------------------------------------ paths
    @property
    def paquetes_dir(self) -> Path:
        return self.state / "paquetes"

    @property
    def profiles_dir(self) -> Path:
        return self.state / "profiles"

    @property
    def convocatoria_path(self) -> Path:
        """Inside the profiles' folder (a sub-folder: not read as a profile), as untrusted profiles require."""
        return self.profiles_dir / "convocatoria" / "convocatoria-noche.yaml"

    def docroot(self, did: str) -> Path:
        return self.state / "www" / did

    def host(self, did: str) -> str:
        return f"{did}.{HOST_SUFFIX}"

    def url(self, did: str) -> str:
        d = next((x for x in self.plan if x.id == did), None)
        scheme = "https" if d is not None and d.behaviour in TLS_BEHAVIOURS else "http"
        return f"{scheme}://{self.host(did) if self.host_names else '127.0.0.1'}:{self.ports[did]}/"

    def watch_args(self) -> list[str]:
        """What ``prep-conformance watch`` needs for this night: the profiles, the pinned convocatoria, the
        folder where the paquetes arrive."""
        return ["--profile", str(self.profiles_dir), "--convocatoria", str(self.convocatoria_path),
                "--paquetes", str(self.paquetes_dir)]

    @property
    def reference_url(self) -> str:
        """The institute's own site, by address (the operator's URL resolves as any URL does)."""
        return f"http://127.0.0.1:{self.ports['instituto']}/"

    # ------------------------------------------------------------------ set-up
    def start(self) -> "ElectionNight":
        if self.state.exists():
            shutil.rmtree(self.state)
        for d in ("paquetes", "profiles", "www", "logs", "run", "nginx", "tmp"):
            (self.state / d).mkdir(parents=True, exist_ok=True)
        ids = ["instituto"] + [d.id for d in self.plan]
        for i, did in enumerate(ids):
            self.ports[did] = self.port_base + i
            port = self.ports[did]
            if not procs.port_free(port):
                raise RuntimeError(f"port {port} is taken by {procs.port_holder(port)}")
            self.docroot(did).mkdir(parents=True, exist_ok=True)
        self.t0 = time.time()
        self._write_convocatoria()
        self._publish(1)                     # the first corte is there when the servers start
        shared = [d for d in self.plan if not (d.own_server or d.behaviour == "down")]
        self._server("shared", ["instituto"] + [d.id for d in shared], shared)
        for d in self.plan:
            if d.own_server or d.behaviour == "down":
                self._server(d.id, [d.id], [d])
        for s in self.servers.values():
            self._spawn(s)
        self._write_profiles()
        self._thread = threading.Thread(target=self._run, name="night-publisher", daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> "ElectionNight":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _write_convocatoria(self) -> None:
        with bundled_dir().joinpath("iem-michoacan-2024.yaml").open(encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        tz = paquete.TZ
        start = dt.datetime.fromtimestamp(self.t0, tz)
        doc["id"] = "noche-laboratorio"
        doc["publication"]["start"] = start.isoformat()
        doc["publication"]["end"] = (start + dt.timedelta(seconds=self.window_s)).isoformat()
        doc["corte_interval_min"] = self.every_s / 60
        doc["freshness"] = {"max_lag_cortes": 0, "max_lag_min": self.tolerance_s / 60}
        self.convocatoria_path.parent.mkdir(parents=True, exist_ok=True)
        self.convocatoria_path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def _write_profiles(self) -> None:
        for d in self.plan:
            url = self.url(d.id)
            doc = {"id": d.id, "name": f"Noche de laboratorio: {BEHAVIOUR_ES.get(d.behaviour, d.behaviour)}",
                   "kind": "medio",
                   "entidad": "Michoacán",
                   "convocatoria": self.convocatoria_path.relative_to(self.profiles_dir).as_posix(),
                   "sites": {"test": url, "official": url}, "target": "official",
                   "http": {"resolve": {self.host(d.id): "127.0.0.1"}, "timeout_s": 3} if self.host_names else {"timeout_s": 3}}
            if d.behaviour == "https":            # inside the profile's folder: an untrusted profile reads no other
                shutil.copyfile(self.state / "pki" / "ca.pem", self.profiles_dir / "ca-laboratorio.pem")
                doc["http"]["ca_bundle"] = "ca-laboratorio.pem"
            (self.profiles_dir / f"{d.id}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                                                           encoding="utf-8")

    def _server(self, name: str, ids: list[str], difs: list[NightDifusor]) -> None:
        by_id = {d.id: d for d in difs}
        blocks = []
        for did in ids:
            d = by_id.get(did)
            header = "" if d is not None and d.behaviour == "no_cache_control" else \
                'add_header Cache-Control "no-cache, no-store, must-revalidate" always;'
            tls = ""
            if d is not None and d.behaviour in TLS_BEHAVIOURS:
                from .ca import CA
                from .scenario import CertSpec
                ca = CA(self.state / "pki")
                cert, key = ca.issue(did, CertSpec(kind="self_signed" if d.behaviour == "bad_cert" else "valid"),
                                     names=(self.host(did),))
                tls = f" ssl;\n        ssl_certificate {cert};\n        ssl_certificate_key {key}"
            blocks.append(f"""
    server {{
        listen 127.0.0.1:{self.ports[did]}{tls};
        server_name {self.host(did)} 127.0.0.1;
        root {self.docroot(did)};
        location = /json/main.json {{ {header} }}
        location / {{ try_files $uri $uri/ =404; }}
    }}""")
        ndir = self.state / "nginx"
        conf = ndir / f"{name}.conf"
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(f"""worker_processes 1;
pid {self.state}/run/nginx-{name}.pid;
error_log {self.state}/logs/nginx-{name}.error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    default_type application/octet-stream;
    types {{ application/json json; text/csv csv; text/html html; }}
    access_log off;
    keepalive_timeout 30;
    keepalive_requests 100000;
    client_body_temp_path {self.state}/tmp/body-{name};
    proxy_temp_path {self.state}/tmp/proxy-{name};
    fastcgi_temp_path {self.state}/tmp/fastcgi-{name};
    uwsgi_temp_path {self.state}/tmp/uwsgi-{name};
    scgi_temp_path {self.state}/tmp/scgi-{name};
{''.join(blocks)}
}}
""")
        self.servers[name] = _Server(name, conf, [self.ports[i] for i in ids])

    def _spawn(self, s: _Server) -> None:
        argv = [NGINX, "-p", str(self.state / "nginx"), "-c", str(s.conf), "-e",
                str(self.state / "logs" / f"nginx-{s.name}.error.log"), "-g", "daemon off;"]
        s.proc = procs.spawn(argv, self.state / "logs" / f"nginx-{s.name}.log")
        s.started = procs.start_time(s.proc.pid)
        closed = procs.wait_listening(s.ports, 10, s.proc)
        if closed:
            raise RuntimeError(f"nginx {s.name} did not listen on {closed}: "
                               f"{procs.tail(self.state / 'logs' / f'nginx-{s.name}.log')}")

    def _kill(self, s: _Server) -> None:
        if s.proc is not None:
            procs.terminate([(s.proc.pid, s.started)], timeout=5, sig=signal.SIGTERM)
            try:
                s.proc.wait(timeout=5)
            except Exception:   # noqa: BLE001
                pass
            s.proc = None

    # ------------------------------------------------------------------ the night
    def _corte_files(self, k: int) -> dict[str, bytes]:
        start = dt.datetime.fromtimestamp(self.t0, paquete.TZ)
        return paquete.corte_files(k, start=start, interval_min=self.every_s / 60, **self.size)

    @staticmethod
    def _write(root: Path, files: dict[str, bytes], skip_manifest: bool = True) -> None:
        """Data files first, main.json last (renamed into place), as a careful difusor uploads."""
        for rel, data in files.items():
            if rel == paquete.MAIN_JSON or (skip_manifest and rel == paquete.MANIFEST):
                continue
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_name(p.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, p)
        main = root / paquete.MAIN_JSON
        main.parent.mkdir(parents=True, exist_ok=True)
        tmp = main.with_name("main.json.tmp")
        tmp.write_bytes(files[paquete.MAIN_JSON])
        os.replace(tmp, main)

    def _publish(self, k: int) -> None:
        files = self._corte_files(k)
        tmp = self.paquetes_dir / f".{paquete.corte_dirname(k)}.tmp"
        paquete.write_files(tmp, files)
        os.replace(tmp, self.paquetes_dir / paquete.corte_dirname(k))
        with self._lock:
            self.truth["published"][k] = time.time()     # the moment the paquete is there to be seen
        self._write(self.docroot("instituto"), files, skip_manifest=False)
        with self._lock:
            self.secuencia = k
        self._files = files

    def _event(self, did: str, what: str, **kw: Any) -> None:
        with self._lock:
            self.truth["events"].append({"t": time.time(), "difusor": did, "what": what, **kw})

    def _copy(self, d: NightDifusor, k: int, files: dict[str, bytes], altered: bool) -> None:
        root = self.docroot(d.id)
        if altered and d.behaviour == "missing":
            rel = sorted(p for p in files if p.startswith("csv/"))[0]
            files = {p: b for p, b in files.items() if p != rel}
            (root / rel).unlink(missing_ok=True)
            self._write(root, files)
            self._event(d.id, "serves", secuencia=k, altered=True)
            return
        if altered:
            files = dict(files)
            rel = sorted(p for p in files if p.startswith("csv/"))[0]
            data = bytearray(files[rel])
            for i in range(len(data) - 1, -1, -1):
                if chr(data[i]).isdigit():
                    data[i] = ord("0") + (data[i] - ord("0") + 1) % 10
                    break
            files[rel] = bytes(data)
        self._write(root, files)
        self._event(d.id, "serves", secuencia=k, altered=altered)

    def _run(self) -> None:
        assert self.t0 is not None
        k = 1
        pending: list[tuple[float, NightDifusor, int]] = [(time.time() + d.delay_s, d, 1) for d in self.plan]
        altered_on: dict[str, bool] = {}
        down_state: dict[str, str] = {}
        lag_state: dict[str, str] = {}
        while not self._stop.is_set():
            now = time.time()
            el = now - self.t0
            if el >= (k * self.every_s):
                k += 1
                self._publish(k)
                self._event("instituto", "published", secuencia=k)
                for d in self.plan:
                    pending.append((time.time() + d.delay_s, d, k))
                    if d.behaviour in ("altered", "missing"):
                        on = d.start_s <= el < d.end_s
                        if altered_on.get(d.id, False) != on:
                            altered_on[d.id] = on
            for d in self.plan:
                if d.behaviour == "down":
                    st = down_state.get(d.id, "up")
                    if st == "up" and d.start_s <= el < d.end_s:
                        self._event(d.id, "down")          # the moment it starts going away
                        self._kill(self.servers[d.id])
                        down_state[d.id] = "down"
                    elif st == "down" and el >= d.end_s:
                        self._copy(d, self.secuencia, self._corte_files(self.secuencia), False)
                        self._spawn(self.servers[d.id])
                        down_state[d.id] = "back"
                        self._event(d.id, "up")
                if d.behaviour == "error":
                    st = lag_state.get(d.id, "serving")
                    if st == "serving" and el >= d.start_s:
                        lag_state[d.id] = "error"
                        self._event(d.id, "error_start")
                        (self.docroot(d.id) / paquete.MAIN_JSON).unlink(missing_ok=True)
                    elif st == "error" and el >= d.end_s:
                        lag_state[d.id] = "back"
                        self._copy(d, self.secuencia, self._corte_files(self.secuencia), False)
                        self._event(d.id, "error_end")
                if d.behaviour == "lag":
                    st = lag_state.get(d.id, "following")
                    if st == "following" and el >= d.start_s:
                        lag_state[d.id] = "lagging"
                        self._event(d.id, "lag_start", secuencia=self.secuencia)
                    elif st == "lagging" and el >= d.end_s:
                        lag_state[d.id] = "caught_up"
                        self._copy(d, self.secuencia, self._corte_files(self.secuencia), False)
                        self._event(d.id, "lag_end", secuencia=self.secuencia)
            due = [p for p in pending if p[0] <= time.time()]
            pending = [p for p in pending if p[0] > time.time()]
            done: set[str] = set()
            for _, d, kk in due:
                if kk < self.secuencia:              # a newer corte is already out: a follower takes that one
                    kk = self.secuencia
                if d.id in done:
                    continue
                done.add(d.id)
                if d.behaviour in ("lag", "error") and lag_state.get(d.id) in ("lagging", "error"):
                    continue
                if d.behaviour == "down" and down_state.get(d.id) == "down":
                    continue
                self._copy(d, kk, self._files if kk == self.secuencia else self._corte_files(kk),
                           altered_on.get(d.id, False))
            self._stop.wait(0.05)

    # ------------------------------------------------------------------ truth helpers
    def events(self, did: str, what: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.truth["events"] if e["difusor"] == did and e["what"] == what]

    def first_serving(self, did: str, altered: bool) -> list[dict[str, Any]]:
        """Times the difusor switched between altered and intact content."""
        out, prev = [], None
        for e in self.events(did, "serves"):
            if e["altered"] != prev:
                out.append(e)
                prev = e["altered"]
        return [e for e in out if e["altered"] == altered]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for s in self.servers.values():
            self._kill(s)
        (self.state / "truth.json").write_text(json.dumps(self.truth, indent=1, default=str))
