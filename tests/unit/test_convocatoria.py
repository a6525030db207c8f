import textwrap

from prep_conformance import catalog
from prep_conformance.convocatoria import bundled_ids, load_convocatoria


def test_bundled_convocatoria_holds_the_calls_numbers():
    c = load_convocatoria("iem-michoacan-2024")
    assert "iem-michoacan-2024" in bundled_ids()
    assert c.thresholds.disk_free_bytes == 20 * 10**9
    assert c.thresholds.sftp_upload_bytes_s == 40 * 10**6
    assert c.main_json.path == "/json/main.json"
    assert c.main_json.cache_control == "no-cache, no-store, must-revalidate"
    assert c.thresholds.availability == 0.999 and c.corte_interval_min == 20
    assert c.publication.start.isoformat() == "2024-06-02T20:00:00-06:00"
    assert (c.publication.end - c.publication.start).total_seconds() >= 24 * 3600
    assert str(c.calendar["validation_deadline"]) == "2024-05-21"


def test_catalog_has_every_contract_id_with_both_titles():
    ids = ["I.3", "I.4", "I.6", "I.9", "I.13", "II.1.a", "II.1.b", "II.1.c", "II.1.d", "II.1.e", "II.2.a",
           "II.2.b", "II.2.c", "II.2.d.ddos", "II.2.d.https", "II.2.e", "II.3.a.i", "II.3.a.ii", "III.3",
           "I.2", "II.4"]
    assert list(catalog.requirement_ids()) == ids
    for r in catalog.requirements():
        assert r.title_es and r.title_en and r.manual_evidence_es and r.manual_evidence_en


INVENTED = """
id: ople-ficticio-2027
institute: Organismo Ficticio
publication: {start: 2027-06-06T18:00:00-05:00, end: 2027-06-07T18:00:00-05:00}
corte_interval_min: 15
main_json: {path: /datos/principal.json, cache_control: "no-store"}
thresholds: {disk_free_gb: 50, sftp_upload_mb_s: 100, availability: 0.9999}
"""


def test_an_invented_convocatoria_loads_from_a_path(tmp_path):
    p = tmp_path / "otra.yaml"
    p.write_text(textwrap.dedent(INVENTED), encoding="utf-8")
    c = load_convocatoria("otra.yaml", tmp_path)
    assert c.id == "ople-ficticio-2027" and c.thresholds.disk_free_bytes == 50 * 10**9
    assert c.main_json.path == "/datos/principal.json"
