"""II.2.a under load (Locust, out of process) and main.json under load (II.2.a, II.1.e).

One run per difusor (``difusor.observe.load_run()``) feeds three checks. The run happens only with
``load.authorized: true`` and, beyond loopback, ``--prep-allow-remote-load``; otherwise SKIP with the reason.
"""

import pytest

from prep_conformance import thresholds
from prep_conformance.errors import not_verified
from prep_conformance.rules import load as rules
from prep_conformance.rules import load_chart


def load_run(difusor):
    """The shared run, or SKIP with the guard's reason."""
    g = difusor.observe.load_guard()
    if not g.allowed:
        not_verified(g.reason, g.reason_en)
    return difusor.observe.load_run()


@pytest.mark.requirement("II.2.a")
def test_load_thresholds(difusor, record_check):
    obs, s, _site = load_run(difusor)
    chart = load_chart.render(obs.series, s.p95_ms, s.p99_ms, s.min_rps) if obs.series else None
    record_check(rules.thresholds(obs, s, chart_svg=chart))


@pytest.mark.requirement("II.2.a")
def test_main_json_under_load(difusor, record_check):
    obs, _s, site = load_run(difusor)
    newest = difusor.observe.paquete_secuencia()
    conv = difusor.convocatoria
    record_check(thresholds.apply(
        rules.main_json_under_load(obs, conv.main_json.cache_control,
                                   newest if newest is not None else site.secuencia,
                                   "paquete" if newest is not None else "baseline"),
        [thresholds.threshold(conv, "cache_control")]))


@pytest.mark.requirement("II.1.e")
def test_main_json_not_cached_under_load(difusor, record_check):
    obs, _s, _site = load_run(difusor)
    record_check(rules.main_json_not_cached(obs))
