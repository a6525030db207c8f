"""II.4 memoria técnica: not due before the convocatoria's deadline; then the delivered memoria is read and
its incidents are compared with the institute's watch (``run --watch-db``)."""

import pytest

from prep_conformance.errors import CheckError
from prep_conformance.memoria.build import as_of_date, convocatoria_tz, memoria_deadline
from prep_conformance.memoria.incidents import WatchDbError, read_watch_db
from prep_conformance.probes.memoria import observe_memoria
from prep_conformance.rules import memoria


@pytest.mark.requirement("II.4")
def test_memoria_tecnica(difusor, record_check):
    conv = difusor.convocatoria
    tz = convocatoria_tz(conv)
    try:
        today = as_of_date(difusor.options.get("as_of"), tz)
    except ValueError as exc:
        raise CheckError(f"fecha de referencia inválida: {exc}", f"invalid as-of date: {exc}") from None
    due = memoria.Due(today, memoria_deadline(conv))
    path = difusor.profile.documents.memoria
    obs = observe_memoria(path) if path and today > (due.deadline or today) else None
    watch = None
    db = difusor.options.get("watch_db")
    if db and obs is not None:
        try:
            watch = [memoria.WatchIncident(i.watch_id, i.kind, i.started_at, i.ended_at, i.duration_s)
                     for i in read_watch_db(db, difusor.id)]
        except WatchDbError as exc:
            raise CheckError(f"no se pudo leer la base de la vigilancia: {exc}",
                             f"the watch db could not be read: {exc}") from None
    from prep_conformance import thresholds
    entry = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
             for k, v in thresholds.threshold(conv, "memoria_deadline").items()}
    record_check(thresholds.apply(memoria.evaluate(due, obs, watch, tz), [entry]))
