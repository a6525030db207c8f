"""pytest wiring only: options, one parametrisation per difusor, verdicts collected, results written.

A check is a test function in ``checks/`` that takes the ``difusor`` fixture, carries
``@pytest.mark.requirement("ID")`` and records one or more ``CheckResult`` with ``record_check``.
Its pytest outcome follows the verdicts (FAIL/ERROR fail the test); an exception that is not a
recorded verdict becomes ERROR, never FAIL.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import catalog
from . import trust as trust_mod
from .convocatoria import Convocatoria
from .convocatoria import pin as pin_convocatoria
from .difusor import Difusor
from .errors import CheckError
from .profile import Profile, convocatoria_of, load_profiles
from .verdict import CheckResult, Verdict, worst
from .yamlsource import SourceErrors

PROP_RESULT = "prep_conformance.result"
PROP_DIFUSOR = "prep_conformance.difusor"


@dataclass
class RunState:
    profiles: list[Profile]
    convocatorias: dict[str, Convocatoria]
    out_dir: Path | None
    lang: str
    only: set[str] | None
    started_at: str
    trust: Any = None
    pinned: Convocatoria | None = None
    difusores: dict[str, Difusor] = field(default_factory=dict)
    results: dict[str, list[CheckResult]] = field(default_factory=dict)
    doc: dict[str, Any] | None = None
    redactions: list[tuple[str, str]] | None = None
    collected: dict[str, set[str]] = field(default_factory=dict)   # difusor id -> requirements with a check
    decisions: list | None = None


RUN = pytest.StashKey[RunState]()
ITEM_RESULTS = pytest.StashKey[list]()
ITEM_START = pytest.StashKey[float]()
ITEM_START_WALL = pytest.StashKey[str]()


def _now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _skip_result(item: pytest.Item, exc: BaseException) -> list[CheckResult]:
    """A pytest.skip as SKIP: a reason written "es / en" gives each language its half; a ``NotVerified``
    skip (not authorised / not configured) is marked so the reports say "No verificado"."""
    from .errors import NotVerified
    reason = str(getattr(exc, "msg", exc))
    es, sep, en = reason.partition(" / ")
    if not sep:
        es = en = reason
    ev = {"not_verified": True} if isinstance(exc, NotVerified) else {}
    return [CheckResult(r, _check_name(item), Verdict.SKIP, es.strip(), en.strip(), ev) for r in requirement_of(item)]


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("prep-conformance", "PREP difusor conformance")
    g.addoption("--prep-profile", action="append", default=[], metavar="FILE|DIR",
                help="difusor profile (YAML) or a folder of them; repeatable")
    g.addoption("--prep-out", default=None, metavar="DIR",
                help="write results.json and the HTML reports here (default: reports/ when profiles are given)")
    g.addoption("--only", action="append", default=[], metavar="ID", dest="prep_only",
                help="run only the checks of this requirement ID (repeatable), e.g. --only II.1.e")
    g.addoption("--lang", default="es", choices=("es", "en"), dest="prep_lang",
                help="language of the reports (default: es)")
    g.addoption("--prep-allow-remote-load", action="store_true", default=False,
                help="allow the load test against a non-loopback target (the profile must also authorise it)")
    g.addoption("--prep-no-html", action="store_true", default=False,
                help="write results.json only, no HTML reports")
    g.addoption("--prep-trust-profile", action="store_true", default=False,
                help="the operator vouches for the profiles: they may run a purge command, name secrets and "
                     "paths outside their folder (default: untrusted; see docs/security.md)")
    g.addoption("--prep-trust-file", default=None, metavar="FILE",
                help="the operator's trust file: secret names profiles may ask for (docs/security.md)")
    g.addoption("--prep-convocatoria", default=None, metavar="ID|FILE",
                help="pin the institute's convocatoria; a profile naming another one is a profile error")
    g.addoption("--prep-decisions", default=None, metavar="FILE",
                help="reviewers' decisions (YAML): a requirement becomes PASS/FAIL only through one")
    g.addoption("--prep-pdf", action="store_true", default=False,
                help="also write one PDF per dictamen and one for the matrix (WeasyPrint)")
    g.addoption("--prep-watch-db", default=None, metavar="FILE",
                help="the institute's watch db: II.4 compares each memoria's incidents with it")
    g.addoption("--prep-prefetch", default="auto", choices=("auto", "on", "off"),
                help="start a difusor's independent read-only web observations together, in threads: on, off, "
                     "or auto (default: on when there is a network wait or a free core to overlap with; off "
                     "for a site on this machine when every core already runs checks)")
    g.addoption("--prep-as-of", default=None, metavar="DATE",
                help="judge date-bound requirements (II.4's deadline) as of this date (default: $PREP_AS_OF, else today)")


def requirement_marker(rid: str) -> str:
    """``II.1.e`` → ``req_II_1_e``, so ``-m req_II_1_e`` selects a requirement's checks."""
    return "req_" + rid.replace(".", "_")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    _ACTIVE.append(config)
    config.addinivalue_line("markers", "requirement(*ids): the convocatoria requirement(s) a check verifies")
    config.addinivalue_line("markers", "lab: needs the reference lab (real nginx, Varnish, sshd)")
    for rid in catalog.requirement_ids():
        config.addinivalue_line("markers", f"{requirement_marker(rid)}: checks of requirement {rid}")
    paths = config.getoption("prep_profile") or []
    only = set(config.getoption("prep_only") or []) or None
    if only:
        unknown = sorted(only - set(catalog.requirement_ids()))
        if unknown:
            raise pytest.UsageError(f"--only: unknown requirement ID(s) {', '.join(unknown)}; "
                                    f"known: {', '.join(catalog.requirement_ids())}")
    profiles: list[Profile] = []
    trust, pinned = trust_mod.UNTRUSTED, None
    if paths:
        try:
            trust = trust_mod.from_options(config.getoption("prep_trust_profile"), config.getoption("prep_trust_file"))
            pinned = pin_convocatoria(config.getoption("prep_convocatoria"))
            profiles = load_profiles(paths, trust=trust, convocatoria=pinned)
        except SourceErrors as exc:
            lines = "\n".join(f"  {e}" for e in exc.errors)
            raise pytest.UsageError(f"profile errors (nothing was checked):\n{lines}") from None
    convs = {p.id: convocatoria_of(p) for p in profiles}
    from .thresholds import pin_reference
    pin_reference(pinned)          # the operator's convocatoria is the reference every threshold is compared with
    out = config.getoption("prep_out")
    out_dir = Path(out) if out else (Path("reports") if profiles else None)
    decisions = None
    if config.getoption("prep_decisions"):
        from .decisions import load_decisions
        try:
            decisions = load_decisions(config.getoption("prep_decisions"))
        except SourceErrors as exc:
            lines = "\n".join(f"  {e}" for e in exc.errors)
            raise pytest.UsageError(f"decisions file errors (nothing was checked):\n{lines}") from None
    config.stash[RUN] = RunState(profiles, convs, out_dir, config.getoption("prep_lang"), only,
                                 dt.datetime.now().astimezone().isoformat(timespec="seconds"), trust, pinned,
                                 decisions=decisions)


def _difusor(config: pytest.Config, profile_id: str) -> Difusor:
    state = config.stash[RUN]
    if profile_id not in state.difusores:
        prof = next(p for p in state.profiles if p.id == profile_id)
        state.difusores[profile_id] = Difusor(prof, state.convocatorias[profile_id], options={
            "allow_remote_load": config.getoption("prep_allow_remote_load"),
            "out_dir": str(state.out_dir) if state.out_dir else None,
            "watch_db": config.getoption("prep_watch_db"),
            "as_of": config.getoption("prep_as_of"),
        })
    return state.difusores[profile_id]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "difusor" in metafunc.fixturenames:
        # xdist_group at parametrisation time, before xdist's own collection hook reads it: with
        # --dist loadgroup a difusor's checks stay on one worker and share its connections and pre-flights
        params = [pytest.param(p.id, id=p.id, marks=pytest.mark.xdist_group(p.id))
                  for p in metafunc.config.stash[RUN].profiles]
        metafunc.parametrize("difusor", params, indirect=True, scope="session")


@pytest.fixture(scope="session")
def difusor(request: pytest.FixtureRequest) -> Difusor:
    """The difusor under test (one parametrisation per profile); shared by all its checks."""
    d = _difusor(request.config, request.param)
    if d.observe.should_prefetch(request.config.getoption("prep_prefetch", "auto")):
        # the read-only observations its collected checks need start together, in threads
        d.observe.prefetch(request.config.stash[RUN].collected.get(d.id, ()))
    yield d
    d.close()


@pytest.fixture
def record_check(request: pytest.FixtureRequest):
    """Record a CheckResult (or several) for this test: ``record_check(rules.x.evaluate(obs, conv))``."""
    bucket = request.node.stash.setdefault(ITEM_RESULTS, [])

    def record(*results: CheckResult) -> None:
        for r in results:
            if not isinstance(r, CheckResult):
                raise TypeError(f"record_check takes CheckResult, got {type(r).__name__}")
            bucket.append(r)
    return record


def requirement_of(item: pytest.Item) -> list[str]:
    return [rid for m in item.iter_markers("requirement") for rid in m.args]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    only = config.stash[RUN].only
    keep, drop = [], []
    known = set(catalog.requirement_ids())
    for item in items:
        reqs = requirement_of(item)
        for rid in reqs:
            if rid not in known:
                raise pytest.UsageError(f"{item.nodeid}: unknown requirement ID {rid!r}")
            item.extra_keyword_matches.add(rid)
            item.add_marker(getattr(pytest.mark, requirement_marker(rid)))
        if only and reqs and not (set(reqs) & only):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    for item in keep:
        did = _difusor_id(item)
        if did is not None:
            config.stash[RUN].collected.setdefault(str(did), set()).update(requirement_of(item))


def _check_name(item: pytest.Item) -> str:
    """``test_x[medio-ejemplo-edge-GET]`` → ``x[edge-GET]``: the function and its variant, without the difusor."""
    name = getattr(item, "originalname", item.name)
    name = name[5:] if name.startswith("test_") else name
    cs = getattr(item, "callspec", None)
    if cs is None:
        return name
    rest, did = str(cs.id), cs.params.get("difusor")
    if did is not None:
        did = str(did)
        if rest == did:
            rest = ""
        elif rest.startswith(did + "-"):
            rest = rest[len(did) + 1:]
        elif rest.endswith("-" + did):
            rest = rest[: -len(did) - 1]
        else:
            rest = rest.replace(f"-{did}-", "-", 1)
    return f"{name}[{rest}]" if rest else name


def _difusor_id(item: pytest.Item) -> str | None:
    cs = getattr(item, "callspec", None)
    return cs.params.get("difusor") if cs is not None else None


def _error_result(item: pytest.Item, exc: BaseException) -> list[CheckResult]:
    reqs = requirement_of(item) or ["?"]
    if isinstance(exc, CheckError):
        return [CheckResult(r, _check_name(item), Verdict.ERROR, exc.summary, exc.summary_en, dict(exc.evidence))
                for r in reqs]
    text = f"{type(exc).__name__}: {exc}".strip()
    return [CheckResult(r, _check_name(item), Verdict.ERROR,
                        f"No se pudo evaluar: {text}", f"Could not be evaluated: {text}",
                        {"exception": type(exc).__name__}) for r in reqs]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    did = _difusor_id(item)
    if did is None:
        return
    results: list[CheckResult] = []
    if call.when == "setup":
        item.stash[ITEM_START] = time.perf_counter()
        item.stash[ITEM_START_WALL] = _now_iso()
        if call.excinfo is not None and not report.skipped:
            results = _error_result(item, call.excinfo.value)
        elif report.skipped and call.excinfo is not None:
            results = _skip_result(item, call.excinfo.value)
    elif call.when == "call":
        recorded: list[CheckResult] = list(item.stash.get(ITEM_RESULTS, []))
        if call.excinfo is not None and report.skipped:
            recorded += _skip_result(item, call.excinfo.value)
        elif call.excinfo is not None:
            recorded += _error_result(item, call.excinfo.value)
        elif not recorded:
            recorded = [CheckResult(r, _check_name(item), Verdict.ERROR, "La verificación no registró veredicto.",
                                    "The check recorded no verdict.") for r in requirement_of(item) or ["?"]]
        elapsed = round(time.perf_counter() - item.stash.get(ITEM_START, time.perf_counter()), 3)
        start_wall, end_wall = item.stash.get(ITEM_START_WALL, ""), _now_iso()
        results = [r if r.duration_s else r.with_(duration_s=elapsed) for r in recorded]
        results = [r if r.started_at else r.with_(started_at=start_wall, finished_at=end_wall) for r in results]
        v = worst(r.verdict for r in results)
        if v in (Verdict.FAIL, Verdict.ERROR):
            report.outcome = "failed"
            report.longrepr = "\n".join(f"{r.verdict.value} {r.requirement} {r.check}: {r.summary}" for r in results)
        elif v is Verdict.SKIP and report.outcome != "skipped":
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1], results[0].summary)
        elif report.outcome == "skipped":
            pass
        else:
            report.outcome = "passed"
            report.longrepr = None
    if results:
        results = _scrubbed(item.config, results)
        if report.longrepr and isinstance(report.longrepr, str):
            report.longrepr = _scrubbed_text(item.config, report.longrepr)
        _attach_html_extras(report, results)
        report.user_properties.append((PROP_DIFUSOR, did))
        for r in results:
            report.user_properties.append((PROP_RESULT, json.dumps(r.to_dict(), ensure_ascii=False, default=str)))


def _redactions(config: pytest.Config) -> list[tuple[str, str]]:
    state = config.stash[RUN]
    if state.redactions is None:
        from .results import redactions
        state.redactions = redactions(state.profiles, state.out_dir)
    return state.redactions


def _scrubbed(config: pytest.Config, results: list[CheckResult]) -> list[CheckResult]:
    """No secret and no local path reaches any output: results are scrubbed before they leave the test."""
    from .results import scrub
    pairs = _redactions(config)
    return [CheckResult.from_dict(scrub(r.to_dict(), pairs)) for r in results] if pairs else results


def _scrubbed_text(config: pytest.Config, text: str) -> str:
    from .results import scrub
    return scrub(text, _redactions(config))


def _attach_html_extras(report: pytest.TestReport, results: list[CheckResult]) -> None:
    """The same verdicts and evidence in pytest-html's report (plain dicts: safe under xdist)."""
    try:
        from pytest_html import extras
    except ImportError:
        return
    from .report.evidence import plain as plain_evidence
    items = getattr(report, "extras", [])
    for r in results:
        items.append(extras.text(f"{r.verdict.value} {r.requirement} {r.check}: {r.summary}", name="verdict"))
        items.append(extras.json(plain_evidence(r.evidence), name=f"evidence {r.check}"))
    report.extras = items


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    props = dict(report.user_properties) if report.user_properties else {}
    if PROP_DIFUSOR not in props:
        return
    state = _STATE.get("run")
    if state is None:
        return
    did = props[PROP_DIFUSOR]
    for key, value in report.user_properties:
        if key == PROP_RESULT:
            state.results.setdefault(did, []).append(CheckResult.from_dict(json.loads(value)))


_STATE: dict[str, RunState] = {}
_ACTIVE: list[pytest.Config] = []      # configured runs in this process (a pytester inline run nests)


def _freeze_heap(config: pytest.Config) -> None:
    """Hide what is alive now from the cyclic garbage collector (``gc.freeze``).

    The modules, the collection and the run's state live until the process ends; left in view, every
    full collection walks them again: during the checks, in pytest's unraisable-exception sweep and in
    the interpreter's finalisation, about 0.3 s of CPU per run (bench/web_pass.py). Only in a run that
    owns its process: a run nested in another pytest would hide the outer run's garbage for good."""
    if _ACTIVE == [config]:
        gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    _freeze_heap(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    if config in _ACTIVE:
        _ACTIVE.remove(config)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _STATE["run"] = session.config.stash[RUN]


def _mark_interrupted(state: RunState) -> None:
    """Ctrl-C / SIGTERM: a requirement whose checks never ran is ERROR (not evaluated), never MANUAL or PASS."""
    for did, reqs in state.collected.items():
        done = {r.requirement for r in state.results.get(did, [])}
        for rid in sorted(reqs - done):
            state.results.setdefault(did, []).append(CheckResult(
                rid, "interrupted", Verdict.ERROR, "No evaluado: la ejecución se interrumpió.",
                "Not evaluated: the run was interrupted."))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    try:
        _finish(session, exitstatus)
    finally:
        _freeze_heap(session.config)    # the run's objects now only wait for the process's end


def _finish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash[RUN]
    _STATE.pop("run", None)
    if _is_worker(config) or not state.profiles:
        return
    from . import results as results_mod
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        _mark_interrupted(state)
    conv_ids = ", ".join(sorted({c.id for c in state.convocatorias.values()}))
    doc = results_mod.build(state.profiles, state.results, state.started_at, selected=state.only,
                            lang=state.lang, convocatoria=conv_ids, out_dir=state.out_dir,
                            conv=state.pinned or next(iter(state.convocatorias.values()), None),
                            convocatorias=state.convocatorias, trust=state.trust.describe(), pinned=state.pinned)
    if state.decisions is not None:
        from .decisions import apply_decisions
        doc = apply_decisions(doc, state.decisions)
    state.doc = doc
    if state.out_dir is not None:
        results_mod.write(doc, state.out_dir)
        if not config.getoption("prep_no_html"):
            from .report import render_run
            render_run(doc, state.out_dir, state.lang)
            if config.getoption("prep_pdf"):
                from .report.pdf import PdfUnavailable
                from .report.render import render_pdfs
                try:
                    render_pdfs(doc, state.out_dir, state.lang)
                except PdfUnavailable as exc:   # the HTML reports stand; say why there is no PDF
                    import sys
                    print(f"sin PDF / no PDF: {exc}", file=sys.stderr)
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = results_mod.exit_code(doc)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(RUN, None)
    if state is None or state.doc is None:
        return
    from .report.terminal import matrix_lines, problem_lines
    terminalreporter.section("prep-conformance")
    for line in problem_lines(state.doc, state.lang):
        terminalreporter.write_line(line, red=True)
    for line in matrix_lines(state.doc, state.lang):
        terminalreporter.write_line(line)
    if state.out_dir is not None:
        terminalreporter.write_line(f"results: {state.out_dir / 'results.json'}")
