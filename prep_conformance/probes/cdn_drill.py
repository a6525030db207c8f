"""The corte drill (II.2.b): publish the next corte as the institute would, purge, time fresh content; restore.

Only on the test site and only when the profile says ``cdn.drill: true``. Steps:
1. derive the next corte from the delivered paquete with the generator (same actas, sizes, seed);
2. snapshot what the public site serves for every path involved (for the restore check);
3. back up, over SFTP, the files the new corte overwrites; upload the new corte into ``ssh.upload_dir``
   files first and ``json/main.json`` last, each written to a temporary name and renamed;
4. purge through the profile's adapter; poll the public ``main.json`` (and the changed files once it
   announces the new corte) every ``purge.poll_interval_s`` until the whole new corte is served, or
   ``purge.fresh_within_s`` has passed; every response is recorded (stale after the purge? mixed?);
5. always (``finally``): put the backed-up bytes back, delete what the drill added, purge, wait for
   the old corte at the edge and compare every path with the snapshot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import posixpath
import re
import stat as stat_mod
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urljoin, urlsplit

import requests

from .. import paquete as gen
from ..errors import CheckError
from .publication import CorteRef, ServedFile, fetch_many, fetch_one, fetch_verifying_or_not, file_url
from .guard import Guard
from .cdn import PurgeObservation

MAIN_JSON = gen.MAIN_JSON
POLL_CAP = 300          # polls kept in evidence


# ---------------------------------------------------------------------------------------------- next corte


def _acta_probe(pq: gen.Paquete) -> tuple[str, str] | None:
    for rel in sorted(pq.manifest):
        if rel.startswith("actas/") and rel.endswith(".png"):
            return rel, pq.manifest[rel]
    return None


def generator_params(pq: gen.Paquete, interval_min: float = gen.INTERVAL_MIN) -> dict[str, Any] | None:
    """The generator parameters that reproduce ``pq`` byte for byte, or None (not a generator paquete)."""
    start = pq.corte - dt.timedelta(minutes=interval_min * (pq.secuencia - 1))
    actas = sum(1 for p in pq.manifest if p.startswith("actas/") and p.endswith(".png"))
    probe = _acta_probe(pq)
    found: dict[str, Any] | None = None
    if probe is not None:
        rel, digest = probe
        size = pq.path(rel).stat().st_size
        clave = posixpath.basename(rel)[:-4]
        # The generator writes images of "about image_bytes" bytes: search around the file's size.
        for seed in range(4 if size <= 1_000_000 else 0):
            for ib in sorted(range(max(1, size - 200), size + 200), key=lambda b: abs(b - size)):
                if gen.sha256_hex(gen.acta_image(clave, ib, seed)) == digest:
                    found = {"actas": actas, "image_bytes": ib, "seed": seed}
                    break
            if found:
                break
    else:
        found = {"actas": 0, "image_bytes": gen.TINY["image_bytes"], "seed": 0}
    if found is None:
        return None
    params = {**found, "start": start, "interval_min": interval_min}
    files = gen.corte_files(pq.secuencia, **params)
    if gen.parse_manifest(files[gen.MANIFEST].decode()) != dict(pq.manifest):
        return None
    return params


def derived_corte(pq: gen.Paquete, interval_min: float = gen.INTERVAL_MIN) -> dict[str, bytes]:
    """Corte ``secuencia + 1`` derived from any paquete (not the generator's): the same files with the
    corte's date and time moved one interval on: main.json (secuencia, corte_iso, ultimoCorte, the
    digests it lists), the corte line of CSVs and page, the ZIP's name; a new manifest.

    Acta images and assets keep their bytes: only what a new corte changes is uploaded.
    """
    old = pq.corte.astimezone(gen.TZ) if pq.corte.utcoffset() == gen.TZ.utcoffset(None) else pq.corte
    new = old + dt.timedelta(minutes=interval_min)
    swaps = [(f"{old:%d/%m/%Y %H:%M}", f"{new:%d/%m/%Y %H:%M}"), (f"{old:%Y%m%d_%H%M}", f"{new:%Y%m%d_%H%M}")]
    files: dict[str, bytes] = {}
    for rel in pq.manifest:
        data = pq.path(rel).read_bytes()
        name = rel
        for a, b in swaps:
            name = name.replace(a, b)
        if rel.lower().endswith((".csv", ".html", ".htm", ".txt")) and rel != MAIN_JSON:
            for a, b in swaps:
                data = data.replace(a.encode(), b.encode())
        files[name] = data
    doc = dict(pq.main_json)
    doc["secuencia"] = pq.secuencia + 1
    doc["corte_iso"] = new.isoformat()
    uc = dict(doc.get("ultimoCorte") or {})
    uc.update(fecha=f"{new:%d/%m/%Y}", hora=f"{new:%H:%M}")
    doc["ultimoCorte"] = uc
    if isinstance(doc.get("archivos"), list):
        doc["archivos"] = [{"ruta": p, "bytes": len(b), "sha256": gen.sha256_hex(b)} for p, b in sorted(files.items())
                           if p not in (MAIN_JSON, gen.MANIFEST)]
    import json
    files[MAIN_JSON] = (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    files[gen.MANIFEST] = gen.manifest_text({p: gen.sha256_hex(b) for p, b in files.items()}).encode()
    return files


def next_corte(pq: gen.Paquete, interval_min: float = gen.INTERVAL_MIN) -> dict[str, bytes]:
    """Every file of corte ``secuencia + 1``: the generator's when it made ``pq``, else derived from ``pq``."""
    params = generator_params(pq, interval_min)
    if params is None:
        return derived_corte(pq, interval_min)
    return gen.corte_files(pq.secuencia + 1, **params)


# ---------------------------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class Poll:
    """One look at the public site during the drill.

    Attributes:
        t_s: when the poll's first request was sent, in seconds since the purge was answered
            (negative: before the purge); ``dur_s`` how long the poll took.
        where: ``edge`` (the public URL) or ``origin`` (``http.origin``).
        status, secuencia: of ``main.json``; ``age``/``x_cache`` its cache headers.
        old_files: files of the new corte still served with their previous bytes (mixed state).
        absent_files: files the new ``main.json`` names that are not served (mixed state).
        error: a transport fault.
    """

    t_s: float
    where: str
    status: int | None
    secuencia: int | None
    age: str | None = None
    x_cache: str | None = None
    old_files: int = 0
    absent_files: int = 0
    error: str | None = None
    dur_s: float = 0.0

    @property
    def mixed(self) -> bool:
        return self.old_files > 0 or self.absent_files > 0


@dataclass(frozen=True)
class RestoreObservation:
    """The drill's undo.

    Attributes:
        ok: every path serves at the edge what it served before the drill.
        differences: paths whose status or digest differs from the snapshot (path, before, after).
        lingering: paths that answered 404 before and are still served (the CDN kept drill files).
        waited_s: time until the edge served the old corte again.
        purge: the restore purge; ``error`` a fault while restoring.
    """

    ok: bool
    differences: tuple[Mapping[str, Any], ...] = ()
    lingering: tuple[str, ...] = ()
    waited_s: float | None = None
    purge: PurgeObservation | None = None
    error: str | None = None
    files_restored: int = 0
    files_removed: int = 0


@dataclass(frozen=True)
class DrillObservation:
    """The corte drill as it happened.

    Attributes:
        old_secuencia, new_secuencia: the corte served before and the one uploaded.
        changed: paths the new corte adds or changes (main.json included).
        upload_dir, uploaded_bytes, upload_s: the SFTP upload.
        purge: the purge request and its answer.
        polls: every look at edge (and origin) after the upload.
        fresh_after_s: from the purge's answer to the start of the first poll that got the whole new corte
            (None: never); an upper bound, within one ``poll_interval_s`` of the true moment.
        upload_to_purge_s: from the end of the upload to the purge's answer (add it for upload-to-fresh).
        origin_fresh_after_s: same at the origin (None: never or no origin configured).
        origin_checked: the origin (``http.origin``) answered with a readable corte at least once, so
            "it never showed the new corte" is a finding (an unreachable origin proves nothing).
        bound_s: ``convocatoria.purge.fresh_within_s``.
        restore: the undo; ``error`` a fault that stopped the drill.
        tls_unverified: why the site's certificate did not verify, when the site was read without
            verification (II.2.d.https judges the certificate; uploads and purges are unchanged).
    """

    site_url: str
    old_secuencia: int | None
    new_secuencia: int | None
    changed: tuple[str, ...] = ()
    upload_dir: str = ""
    uploaded_bytes: int = 0
    upload_s: float = 0.0
    purge: PurgeObservation | None = None
    polls: tuple[Poll, ...] = ()
    fresh_after_s: float | None = None
    origin_fresh_after_s: float | None = None
    origin_checked: bool = False
    bound_s: float = 0.0
    restore: RestoreObservation | None = None
    error: str | None = None
    upload_to_purge_s: float | None = None
    poll_interval_s: float = 0.0
    polls_total: int = 0
    tls_unverified: str | None = None

    @property
    def stale_after_purge(self) -> int:
        return sum(1 for p in self.polls if p.where == "edge" and p.t_s >= 0 and p.secuencia == self.old_secuencia)

    @property
    def mixed_polls(self) -> int:
        return sum(1 for p in self.polls if p.where == "edge" and p.t_s >= 0 and p.mixed)


# ---------------------------------------------------------------------------------------------- SFTP


def _exists(sftp, path: str) -> bool:
    try:
        sftp.stat(path)
        return True
    except IOError:
        return False


def _makedirs(sftp, path: str) -> None:
    parts, cur = [p for p in path.split("/") if p], "/" if path.startswith("/") else ""
    for p in parts:
        cur = posixpath.join(cur, p) if cur else p
        try:
            st = sftp.stat(cur)
            if not stat_mod.S_ISDIR(st.st_mode):
                raise IOError(f"{cur} is not a folder")
        except FileNotFoundError:
            sftp.mkdir(cur)


def _put_atomic(sftp, remote: str, data: bytes) -> None:
    """Write to a temporary name in the same folder, then rename over the target (readers never see half)."""
    tmp = posixpath.join(posixpath.dirname(remote), f".{posixpath.basename(remote)}.prep-drill.tmp")
    sftp.putfo(io.BytesIO(data), tmp, file_size=len(data), confirm=True)
    try:
        sftp.posix_rename(tmp, remote)
    except IOError:
        if _exists(sftp, remote):
            sftp.remove(remote)
        sftp.rename(tmp, remote)


def _read(sftp, remote: str) -> bytes:
    with sftp.open(remote, "rb") as f:
        f.prefetch()
        return f.read()


LOCK_NAME = ".prep-drill.lock"
LOCK_STALE_S = 900          # a lock older than this was left by a killed run


class DrillLock:
    """An exclusive lock file in ``upload_dir`` (SFTP ``O_EXCL``): two drills on one site never overlap,
    whichever machine runs them. Waits up to ``wait_s``; a lock older than ``LOCK_STALE_S`` is taken over."""

    def __init__(self, sftp, upload_dir: str, wait_s: float = 120.0):
        self.sftp, self.path, self.wait_s = sftp, posixpath.join(upload_dir, LOCK_NAME), wait_s

    def __enter__(self) -> "DrillLock":
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                with self.sftp.open(self.path, "wx") as f:
                    f.write(f"prep-conformance drill {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
                return self
            except IOError as exc:
                try:
                    age = time.time() - self.sftp.stat(self.path).st_mtime
                except IOError:
                    if not _exists(self.sftp, posixpath.dirname(self.path)):
                        raise exc                  # the folder is missing: not a lock held by another drill
                    age = 0.0                      # vanished between the two calls, or unwritable: retry
                    missing_lock = getattr(self, "_missing", 0) + 1
                    self._missing = missing_lock
                    if missing_lock > 3:
                        raise exc                  # no lock file, yet we cannot create one: not writable
                    continue
                if age > LOCK_STALE_S:
                    self.sftp.remove(self.path)
                    continue
                if time.monotonic() > deadline:
                    raise CheckError(f"Otro simulacro de corte está en curso en este sitio ({self.path}).",
                                     f"Another corte drill is running on this site ({self.path}).",
                                     lock=self.path) from None
                time.sleep(0.5)

    def __exit__(self, *exc) -> None:
        try:
            self.sftp.remove(self.path)
        except IOError:
            pass


# ---------------------------------------------------------------------------------------------- drill


@dataclass
class DrillTarget:
    """What the drill needs; built from a profile by ``target_from_profile`` (plain values for tests)."""

    site_url: str
    session: requests.Session
    sftp: Any
    upload_dir: str
    purge: Callable[[Sequence[str]], PurgeObservation]
    bound_s: float
    poll_interval_s: float
    timeout_s: float = 10.0
    origin_url: str | None = None
    interval_min: float = gen.INTERVAL_MIN
    origin_get: Callable[[], tuple[int | None, int | None, str | None]] | None = None  # (status, secuencia, error)
    verify: bool | None = None      # False: the site's certificate does not verify, content read without it
    look: Callable[[PurgeObservation], PurgeObservation] | None = None   # the provider's completion signal


def _origin_main(t: DrillTarget) -> ServedFile:
    url = urljoin(t.origin_url.rstrip("/") + "/", MAIN_JSON)
    host = urlsplit(t.site_url).netloc
    try:
        r = t.session.get(url, headers={"Host": host}, timeout=t.timeout_s, allow_redirects=False)
        return ServedFile.of(MAIN_JSON, url, r.status_code, hashlib.sha256(r.content).hexdigest(), len(r.content),
                             None, r.content, {})
    except requests.RequestException as exc:
        return ServedFile.of(MAIN_JSON, url, None, error=f"{type(exc).__name__}: {exc}")


def _snapshot(t: DrillTarget, paths: Sequence[str]) -> dict[str, tuple[int | None, str | None]]:
    got = fetch_many(t.session, t.site_url, paths, workers=8, timeout=t.timeout_s, keep=lambda p: p == MAIN_JSON,
                     verify=t.verify)
    return {p: (sf.status, sf.body_sha256) for p, sf in got.items()}


def _poll(t: DrillTarget, t0: float, new_seq: int, new_manifest: Mapping[str, str], changed: Sequence[str]
          ) -> tuple[Poll, bool]:
    start = time.monotonic()
    main = fetch_one(t.session, file_url(t.site_url, MAIN_JSON), MAIN_JSON, t.timeout_s, True, verify=t.verify)
    seq = CorteRef.from_doc(main.json()).secuencia if main.ok else None
    old = absent = 0
    if seq == new_seq:
        others = [p for p in changed if p != MAIN_JSON]
        got = fetch_many(t.session, t.site_url, others, workers=8, timeout=t.timeout_s, keep=lambda p: False,
                         verify=t.verify)
        for p in others:
            sf = got[p]
            if not sf.ok:
                absent += 1
            elif sf.body_sha256 != new_manifest[p]:
                old += 1
    poll = Poll(round(start - t0, 4), "edge", main.status, seq, main.get("age"),
                main.get("x-cache"), old, absent, main.error, round(time.monotonic() - start, 4))
    return poll, seq == new_seq and old == 0 and absent == 0


def run_drill(t: DrillTarget, pq: gen.Paquete) -> DrillObservation:
    """Upload the next corte, purge, poll until fresh or ``bound_s``; restore whatever happens.

    Holds ``DrillLock`` in the upload folder for the whole drill and its restore; ``probes.guard`` turns
    SIGTERM/SIGHUP into an interruption and holds signals while the site is put back and the lock freed.
    """
    try:
        lock = DrillLock(t.sftp, t.upload_dir).__enter__()
    except IOError as exc:
        raise CheckError(f"No se pudo escribir en {t.upload_dir} por SFTP: {exc}",
                         f"Could not write into {t.upload_dir} over SFTP: {exc}", upload_dir=t.upload_dir) from None
    with Guard("the corte drill") as g:
        g.on_exit(lambda: lock.__exit__(None, None, None))      # registered first: freed last
        return _run_drill(t, pq, g)


@dataclass
class _Run:
    """The drill as it goes (mutable); ``_observation`` freezes it into a ``DrillObservation``."""

    now: ServedFile                       # main.json before the drill
    files: Mapping[str, bytes]            # the next corte
    new_seq: int
    new_manifest: Mapping[str, str]
    changed: list[str]                    # paths the new corte adds or changes, main.json included
    order: list[str]                      # upload order: main.json last
    before: Mapping[str, tuple[int | None, str | None]]   # what the edge served before
    new_only: list[str]
    backups: dict[str, bytes] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    polls: list[Poll] = field(default_factory=list)
    purge: PurgeObservation | None = None
    fresh: float | None = None
    origin_fresh: float | None = None
    origin_readable: bool = False
    uploaded: int = 0
    upload_s: float = 0.0
    upload_to_purge: float | None = None
    error: str | None = None


def _run_drill(t: DrillTarget, pq: gen.Paquete, g: Guard) -> DrillObservation:
    t, now = _preflight(t, pq)
    run = _plan(t, pq, now)
    restore_site = g.on_exit(lambda: _restore(t, pq, run.backups, run.added, run.changed, run.before, run.new_only))
    restore = None
    try:
        upload_end = _upload(t, run)
        deadline = _purge_and_poll(t, run, upload_end)
        _follow_provider(t, run, deadline)
    except CheckError:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded as the drill's fault, restore still runs
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        restore = restore_site()
    return _observation(t, pq, run, restore)


def _preflight(t: DrillTarget, pq: gen.Paquete) -> tuple[DrillTarget, ServedFile]:
    """The site answers and serves the paquete's corte (the drill starts from it); whether its
    certificate verifies (else every later look at the site reads content only, not the purge)."""
    now, verify = fetch_verifying_or_not(t.session, file_url(t.site_url, MAIN_JSON), MAIN_JSON, t.timeout_s, True)
    if verify is False:
        t = replace(t, verify=False)
    if now.status is None:
        raise CheckError(f"El sitio no responde; no se hizo el simulacro: {now.error}",
                         f"The site does not answer; no drill was run: {now.error}", url=now.url)
    cur = CorteRef.from_doc(now.json()).secuencia if now.ok else None
    if cur != pq.secuencia:
        raise CheckError(f"El sitio sirve el corte {cur} y el paquete es del {pq.secuencia}: el simulacro parte del "
                         "corte vigente; publique primero el paquete indicado.",
                         f"The site serves corte {cur} and the paquete is corte {pq.secuencia}: the drill starts "
                         "from the current corte; publish the given paquete first.", main_json=now.brief())
    return t, now


def _plan(t: DrillTarget, pq: gen.Paquete, now: ServedFile) -> _Run:
    """The next corte, what it changes, the upload order, and what the site serves now (new-only paths
    are not asked for: a CDN would cache their 404)."""
    files = next_corte(pq, t.interval_min)
    new_manifest = gen.parse_manifest(files[gen.MANIFEST].decode())
    changed = sorted(p for p, d in new_manifest.items() if pq.manifest.get(p) != d)
    if MAIN_JSON not in changed:
        changed.append(MAIN_JSON)
    order = [p for p in changed if p != MAIN_JSON] + [gen.MANIFEST, MAIN_JSON]
    before = _snapshot(t, sorted(set(pq.manifest) | {MAIN_JSON}))
    return _Run(now=now, files=files, new_seq=pq.secuencia + 1, new_manifest=new_manifest, changed=changed,
                order=order, before=before, new_only=sorted(set(new_manifest) - set(pq.manifest)))


def _upload(t: DrillTarget, run: _Run) -> float:
    """Back up what the upload overwrites, then upload (atomically, main.json last); the monotonic end."""
    for rel in run.order:
        remote = posixpath.join(t.upload_dir, rel)
        if _exists(t.sftp, remote):
            run.backups[rel] = _read(t.sftp, remote)
        else:
            run.added.append(rel)
    u0 = time.perf_counter()
    for rel in run.order:
        remote = posixpath.join(t.upload_dir, rel)
        _makedirs(t.sftp, posixpath.dirname(remote))
        _put_atomic(t.sftp, remote, run.files[rel])
        run.uploaded += len(run.files[rel])
    run.upload_s = round(time.perf_counter() - u0, 3)
    return time.monotonic()


def _purge_and_poll(t: DrillTarget, run: _Run, upload_end: float) -> float:
    """One look before the purge, the purge, then a look every ``poll_interval_s`` until the edge serves
    the whole new corte or the bound is reached; returns the deadline (monotonic)."""
    pre, _ = _poll(t, upload_end, run.new_seq, run.new_manifest, run.changed)
    run.purge = t.purge([""] + run.changed)
    t0 = run.purge.at or time.monotonic()
    run.upload_to_purge = round(t0 - upload_end, 4)
    run.polls.append(replace(pre, t_s=round(upload_end - t0, 4)))
    deadline = t0 + t.bound_s
    while True:
        if t.look is not None:
            run.purge = t.look(run.purge)      # the provider's word, kept apart from what the public sees
        poll, ok = _poll(t, t0, run.new_seq, run.new_manifest, run.changed)
        run.polls.append(poll)
        if t.origin_url and run.origin_fresh is None:
            _look_at_origin(t, run, poll.t_s)
        if ok:
            run.fresh = poll.t_s
            break
        if time.monotonic() + t.poll_interval_s > deadline:
            break
        time.sleep(t.poll_interval_s)
    return deadline


def _look_at_origin(t: DrillTarget, run: _Run, t_s: float) -> None:
    if t.origin_get is not None:
        ostatus, oseq, oerr = t.origin_get()
    else:
        om = _origin_main(t)
        ostatus, oerr = om.status, om.error
        oseq = CorteRef.from_doc(om.json()).secuencia if om.status == 200 else None
    run.polls.append(Poll(t_s, "origin", ostatus, oseq, error=oerr))
    if oseq is not None:
        run.origin_readable = True     # the origin answers with a corte: its word counts
    if oseq == run.new_seq:
        run.origin_fresh = t_s


def _follow_provider(t: DrillTarget, run: _Run, deadline: float) -> None:
    """Fresh before the provider said done: keep following its signal (never past the bound)."""
    while (t.look is not None and run.purge.accepted and run.purge.completion_signal == "status"
           and run.purge.completion_state not in ("complete", "failed")
           and time.monotonic() + t.poll_interval_s <= deadline):
        time.sleep(t.poll_interval_s)
        run.purge = t.look(run.purge)


def _observation(t: DrillTarget, pq: gen.Paquete, run: _Run, restore: RestoreObservation | None
                 ) -> DrillObservation:
    polls = run.polls
    kept = polls if len(polls) <= POLL_CAP else polls[:POLL_CAP // 2] + polls[-POLL_CAP // 2:]
    return DrillObservation(
        site_url=t.site_url, old_secuencia=pq.secuencia, new_secuencia=run.new_seq, changed=tuple(run.changed),
        upload_dir=t.upload_dir, uploaded_bytes=run.uploaded, upload_s=run.upload_s, purge=run.purge,
        polls=tuple(kept), fresh_after_s=run.fresh, origin_fresh_after_s=run.origin_fresh,
        origin_checked=run.origin_readable, bound_s=t.bound_s, restore=restore, error=run.error,
        upload_to_purge_s=run.upload_to_purge, poll_interval_s=t.poll_interval_s, polls_total=len(polls),
        tls_unverified=run.now.tls_unverified)


def _restore(t: DrillTarget, pq: gen.Paquete, backups: Mapping[str, bytes], added: Sequence[str],
             changed: Sequence[str], before: Mapping[str, tuple[int | None, str | None]],
             new_only: Sequence[str] = ()) -> RestoreObservation:
    """Put the old corte back (main.json first, so it never names a file being removed), purge, verify."""
    restored = removed = 0
    purge_obs = None
    try:
        order = sorted(backups, key=lambda p: p != MAIN_JSON)
        for rel in order:
            _put_atomic(t.sftp, posixpath.join(t.upload_dir, rel), backups[rel])
            restored += 1
        for rel in added:
            remote = posixpath.join(t.upload_dir, rel)
            if _exists(t.sftp, remote):
                t.sftp.remove(remote)
                removed += 1
        purge_obs = t.purge([""] + list(changed))
        t0 = time.monotonic()
        deadline = t0 + max(2 * t.bound_s, 5.0)     # a purge slower than the bound still has to restore
        waited = None
        watch = [p for p in changed if before.get(p, (None, None))[0] == 200]
        while time.monotonic() < deadline:
            now = _snapshot(t, watch)
            if all(now[p] == before[p] for p in watch):
                waited = round(time.monotonic() - t0, 3)
                break
            time.sleep(t.poll_interval_s)
        after = _snapshot(t, list(before) + list(new_only))
        diffs = [{"path": p, "before": list(b), "after": list(after[p]) if p in after else None}
                 for p, b in before.items() if after.get(p) != b]
        lingering = [p for p in new_only if after.get(p, (None,))[0] == 200]
        return RestoreObservation(not diffs, tuple(diffs[:100]), tuple(lingering), waited, purge_obs, None,
                                  restored, removed)
    except Exception as exc:  # noqa: BLE001 - the report must say the site may not be restored
        return RestoreObservation(False, (), (), None, purge_obs, f"{type(exc).__name__}: {exc}", restored, removed)


def target_from_profile(prof, conv, sftp, session: requests.Session, endpoint=None) -> DrillTarget:
    """A ``DrillTarget`` from a profile and its convocatoria (bounds from the convocatoria); ``endpoint``:
    the difusor's ``http.Endpoint`` (its client: the origin look reuses its connections)."""
    from .cdn import looker_for_profile, purge_for_profile
    from . import http as http_probe
    ep = endpoint or http_probe.endpoint(prof)

    def origin_get() -> tuple[int | None, int | None, str | None]:
        """main.json at the origin with the site's Host and SNI (the web probe's pinning)."""
        o = http_probe.fetch_origin(ep, MAIN_JSON, variant="drill-origin", sample_bytes=4096)
        m = re.search(r'"secuencia"\s*:\s*(\d+)', o.body_sample or "") if o.status == 200 else None
        return o.status, int(m.group(1)) if m else None, o.error

    return DrillTarget(prof.target_url, session, sftp, prof.ssh.upload_dir,
                       lambda paths: purge_for_profile(prof, paths, session=session),
                       conv.purge.fresh_within_s, conv.purge.poll_interval_s, prof.http.timeout_s,
                       prof.http.origin, conv.corte_interval_min, origin_get if prof.http.origin else None,
                       look=looker_for_profile(prof))
