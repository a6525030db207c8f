"""II.2.a under load (Locust, out of process) and main.json under load (II.2.a, II.1.e).

One run per difusor (``difusor.once("load:run")``) feeds three checks. The run happens only with
``load.authorized: true`` and, beyond loopback, ``--prep-allow-remote-load``; otherwise SKIP with the reason.
"""

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from prep_conformance import thresholds
from prep_conformance.errors import CheckError
from prep_conformance.probes import http, load
from prep_conformance.rules import load as rules
from prep_conformance.errors import not_verified


def _settings(difusor):
    return rules.settings(difusor.convocatoria.load, difusor.profile.load, difusor.convocatoria)


def _guard_or_skip(difusor):
    prof = difusor.profile
    g = difusor.once("load:guard", lambda: rules.guard(
        prof.load.authorized, load.target_addresses(prof.target_url, prof.http.resolve),
        bool(difusor.options.get("allow_remote_load"))))
    if not g.allowed:
        not_verified(g.reason, g.reason_en)
    return g


def expected_corte(difusor):
    """The newest corte: the paquete's (the profile's ``package:``), else None (use the pre-load baseline)."""
    if not difusor.profile.package:
        return None

    def read():
        from prep_conformance.paquete import load_paquete
        try:
            return load_paquete(difusor.profile.package).secuencia
        except (OSError, ValueError) as exc:
            raise CheckError(f"No se pudo leer el paquete: {exc}", f"The paquete could not be read: {exc}") from exc
    return difusor.once("load:paquete", read)


def site_map(difusor):
    prof = difusor.profile
    http.site(difusor)           # the pre-flight (reach, and an answer in time), shared with the web checks
    return difusor.once("load:site", lambda: load.site_map(
        prof.target_url, difusor.convocatoria.main_json.path, prof.http.resolve, prof.http.ca_bundle,
        float(prof.http.timeout_s)))


def _out_dir(difusor) -> Path:
    base = difusor.options.get("out_dir")
    if base:
        return Path(base) / "load" / difusor.id
    return Path(tempfile.mkdtemp(prefix=f"prep-load-{difusor.id}-"))


def load_run(difusor):
    """Pre-flight, then the Locust run; shared by the checks of this module (and test_ddos)."""
    _guard_or_skip(difusor)
    site = site_map(difusor)       # outside the next once(): Difusor.once does not nest

    def run():
        if site.page_status is None:
            raise CheckError(f"La página no respondió antes de la carga: {site.error}",
                             f"The page did not answer before the load: {site.error}")
        s = _settings(difusor)
        plan = load.plan_for(difusor.profile, difusor.convocatoria, s, site)
        obs = load.run(plan, _out_dir(difusor))
        prof = difusor.profile
        after, status = load.settle(prof.target_url, prof.http.resolve, prof.http.ca_bundle,
                                    float(prof.http.timeout_s), difusor.convocatoria.load.cooldown_s)
        return replace(obs, recovered_after_s=after, recovery_status=status), s, site
    return difusor.once("load:run", run)


@pytest.mark.requirement("II.2.a")
def test_load_thresholds(difusor, record_check):
    obs, s, _site = load_run(difusor)
    record_check(rules.thresholds(obs, s))


@pytest.mark.requirement("II.2.a")
def test_main_json_under_load(difusor, record_check):
    obs, _s, site = load_run(difusor)
    newest = expected_corte(difusor)
    source = "paquete" if newest is not None else "baseline"
    conv = difusor.convocatoria
    record_check(thresholds.apply(
        rules.main_json_under_load(obs, conv.main_json.cache_control,
                                   newest if newest is not None else site.secuencia, source),
        [thresholds.threshold(conv, "cache_control")]))


@pytest.mark.requirement("II.1.e")
def test_main_json_not_cached_under_load(difusor, record_check):
    obs, _s, _site = load_run(difusor)
    record_check(rules.main_json_not_cached(obs))
