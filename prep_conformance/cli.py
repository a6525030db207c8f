"""Command line: thin. ``run`` builds a pytest invocation; ``validate``, ``init``, ``report`` need no network.

    prep-conformance run --profile FILE|DIR [...] --out DIR [--only ID ...] [--lang es|en] [-n N]
    prep-conformance validate FILE|DIR ...
    prep-conformance init [PATH]
    prep-conformance report DIR [DIR ...] --out DIR [--lang es|en] [--decisions FILE] [--pdf]
    prep-conformance lab up|down|status ...      (the reference lab)
    prep-conformance demo                         (lab up, every scenario checked, reports, lab down)
    prep-conformance paquete generate OUT ...     (the synthetic paquete de difusión)
    prep-conformance monitor --profile FILE --log FILE --interval S --count N   (availability samples)
    prep-conformance watch --profile FILE|DIR --db FILE [...]   (election night: every difusor, incidents)
    prep-conformance memoria --profile FILE --access-log FILE ... [--watch-db FILE] [--incidents FILE] --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import resources
from pathlib import Path

from . import __version__, catalog

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def checks_dir() -> Path:
    """Where the packaged check modules live (works from a checkout and from an installed wheel)."""
    return Path(str(resources.files("prep_conformance.checks")))


def _print_source_errors(exc) -> None:
    print("Errores de perfil (no se verificó nada) / profile errors (nothing was checked):", file=sys.stderr)
    for e in exc.errors:
        print(f"  {e}", file=sys.stderr)


def load_for_run(args: argparse.Namespace, check_files: bool = True):
    """Profiles loaded as the operator's flags say (``--trust-profile``, ``--trust-file``, ``--convocatoria``);
    raises ``SourceErrors``. Reusable by every command that loads profiles (run, validate, watch, memoria)."""
    from . import trust
    from .convocatoria import pin
    from .profile import load_profiles
    t = trust.from_options(getattr(args, "trust_profile", False), getattr(args, "trust_file", None))
    paths = getattr(args, "profile", None) or getattr(args, "files", [])
    return load_profiles([paths] if isinstance(paths, (str, Path)) else list(paths), check_files=check_files,
                         trust=t, convocatoria=pin(getattr(args, "convocatoria", None)))


def add_trust_options(p: argparse.ArgumentParser, convocatoria: bool = True) -> None:
    """``--trust-profile``, ``--trust-file``, ``--convocatoria`` (docs/security.md), for run, validate, watch..."""
    p.add_argument("--trust-profile", action="store_true",
                   help="you vouch for the profiles: they may run their purge command, name secrets (environment "
                        "variables, files) and paths outside their folder (default: untrusted)")
    p.add_argument("--trust-file", metavar="FILE",
                   help="your trust file: the secret names profiles may ask for, mapped to variables or files")
    if convocatoria:
        p.add_argument("--convocatoria", metavar="ID|FILE",
                       help="pin the institute's convocatoria (bundled id or file); a profile naming another "
                            "one is a profile error")


def cmd_run(args: argparse.Namespace) -> int:
    from .yamlsource import SourceErrors
    try:
        profiles = load_for_run(args)
    except SourceErrors as exc:
        _print_source_errors(exc)
        return EXIT_USAGE
    if args.decisions and _load_decisions(args.decisions) is None:
        return EXIT_USAGE
    unknown = [i for i in args.only if i not in catalog.requirement_ids()]
    if unknown:
        print(f"--only: unknown requirement ID(s) {', '.join(unknown)}; known: {', '.join(catalog.requirement_ids())}",
              file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # checks record verdicts, they never assert: no assertion rewriting of the plugin's ~100 modules (~0.4 s
    # of every run's start, more where bytecode is not cached)
    pargs = [str(checks_dir()), "-p", "no:locust", "-p", "no:cacheprovider", "--assert=plain", "--rootdir", str(checks_dir()),
             "-c", os.devnull, "--prep-out", str(out), "--lang", args.lang,
             "--junitxml", str(out / "junit.xml"), "-o", "junit_family=xunit2",
             "--html", str(out / "pytest.html"), "--self-contained-html"]
    for p in args.profile:
        pargs += ["--prep-profile", str(p)]
    for rid in args.only:
        pargs += ["--only", rid]
    if args.allow_remote_load:
        pargs.append("--prep-allow-remote-load")
    if args.trust_profile:
        pargs.append("--prep-trust-profile")
    if args.trust_file:
        pargs += ["--prep-trust-file", str(Path(args.trust_file).absolute())]
    if args.convocatoria:
        conv = args.convocatoria
        pargs += ["--prep-convocatoria", str(Path(conv).absolute()) if Path(conv).exists() else conv]
    if args.decisions:
        pargs += ["--prep-decisions", str(args.decisions)]
    if args.pdf:
        pargs.append("--prep-pdf")
    if args.watch_db:
        pargs += ["--prep-watch-db", str(Path(args.watch_db).resolve())]
    if args.as_of:
        pargs += ["--prep-as-of", args.as_of]
    if args.workers:
        pargs += ["-n", str(args.workers), "--dist", "loadgroup"]
    pargs += (["-q", "--tb=no"] if not args.verbose else ["-v"]) + ["-rN", *args.pytest_args]
    import pytest
    code = int(pytest.main(pargs))
    if code == 4:   # pytest usage error (e.g. a profile error found late); 2 is pytest's "interrupted"
        return EXIT_USAGE
    _scrub_pytest_outputs(out, profiles)
    results = out / "results.json"
    if not results.exists():
        print(f"no results were written (pytest exit code {code})", file=sys.stderr)
        return EXIT_FINDINGS if code else EXIT_USAGE
    from .results import exit_code
    doc = json.loads(results.read_text(encoding="utf-8"))
    print(f"index: {(out / 'index.html').resolve()}")
    if code not in (0, 1, 5):   # interrupted or internal error: the results are incomplete
        print(f"la ejecución no terminó / the run did not complete (pytest exit code {code})", file=sys.stderr)
        return EXIT_FINDINGS
    return exit_code(doc)


def _scrub_pytest_outputs(out: Path, profiles) -> None:
    """pytest-html and JUnit write pytest's own text (captured output, file locations): apply the same
    redactions as results.json, so no secret and no local path is left in any file of the run."""
    from .results import redactions, scrub
    pairs = redactions(profiles, out)
    for name in ("pytest.html", "junit.xml"):
        path = out / name
        if path.exists():
            text = path.read_text(encoding="utf-8", errors="replace")
            path.write_text(scrub(text, pairs), encoding="utf-8")


def cmd_validate(args: argparse.Namespace) -> int:
    from .rules.documents import application_findings
    from .verdict import Verdict
    from .yamlsource import SourceErrors
    try:
        profiles = load_for_run(args)
    except SourceErrors as exc:
        _print_source_errors(exc)
        return EXIT_USAGE
    for p in profiles:
        findings = [r for r in application_findings(p) if r.verdict is Verdict.FAIL]
        print(f"{p.source}: perfil válido / profile valid ({p.id})")
        for r in findings:
            summary = r.summary_en if args.lang == "en" else r.summary
            print(f"  fallaría / would fail {r.requirement}: {summary}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.path)
    if target.exists() and not args.force:
        print(f"{target} already exists (use --force to overwrite)", file=sys.stderr)
        return EXIT_USAGE
    text = resources.files("prep_conformance.profiles").joinpath("example.yaml").read_text(encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    docs = target.parent / "docs"
    docs.mkdir(exist_ok=True)
    examples = resources.files("prep_conformance.profiles").joinpath("example-docs")
    for name in ("logo.svg", "diagrama.pdf"):
        if not (docs / name).exists():
            (docs / name).write_bytes(examples.joinpath(name).read_bytes())
    print(f"escrito / written: {target} (+ docs/logo.svg, docs/diagrama.pdf de ejemplo)")
    print(f"siguiente / next: prep-conformance validate {target}")
    return EXIT_OK


def _load_decisions(path):
    """The decisions file, or None after printing its errors (file:line: key: message)."""
    from .decisions import load_decisions
    from .yamlsource import SourceErrors
    try:
        return load_decisions(path)
    except SourceErrors as exc:
        print("Errores en el archivo de decisiones / decisions file errors:", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e}", file=sys.stderr)
        return None


def cmd_report(args: argparse.Namespace) -> int:
    from .report.merge import merge_runs
    from .report import render_run
    from .results import write
    docs = []
    for d in args.dirs:
        p = Path(d) / "results.json" if Path(d).is_dir() else Path(d)
        try:
            docs.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"{p}: cannot read results.json: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.convocatoria:
        from .convocatoria import pin
        from .yamlsource import SourceErrors
        try:
            pinned = pin(args.convocatoria)
        except SourceErrors as exc:
            _print_source_errors(exc)
            return EXIT_USAGE
        bad = pinned_mismatches(docs, args.dirs, pinned)
        if bad:
            print("convocatoria distinta de la fijada / convocatoria differs from the pinned one "
                  f"({pinned.id}, SHA-256 {pinned.sha256}):", file=sys.stderr)
            for line in bad:
                print(f"  {line}", file=sys.stderr)
            return EXIT_USAGE
    if not docs and not args.watch_db:
        print("report: give result folders and/or --watch-db FILE", file=sys.stderr)
        return EXIT_USAGE
    doc = merge_runs(docs) if docs else None
    if args.watch_db:          # the election-night watch: I.2, time-weighted I.9/II.2.e, incidents, timeline
        import sqlite3
        from .watch.report import apply as apply_watch
        try:
            doc = apply_watch(doc, args.watch_db, args.lang)
        except (OSError, ValueError, KeyError, sqlite3.Error) as exc:
            print(f"--watch-db: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.decisions:
        decisions = _load_decisions(args.decisions)
        if decisions is None:
            return EXIT_USAGE
        from .decisions import apply_decisions, unknown_difusores
        for did in unknown_difusores(doc, decisions):
            print(f"{args.decisions}: aviso / warning: no difusor {did!r} in these results", file=sys.stderr)
        doc = apply_decisions(doc, decisions)
    out = Path(args.out)
    write(doc, out)
    index = render_run(doc, out, args.lang)
    print(f"index: {index.resolve()}")
    if args.pdf:
        from .report.render import render_pdfs
        from .report.pdf import PdfUnavailable
        try:
            for path in render_pdfs(doc, out, args.lang):
                print(f"pdf: {path.resolve()}")
        except PdfUnavailable as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_USAGE
    return EXIT_OK


def cmd_memoria(args: argparse.Namespace) -> int:
    """The memoria técnica (II.4): HTML + PDF from the difusor's access logs, the watch db and its notes."""
    from .memoria.build import memoria_doc
    from .memoria.incidents import WatchDbError, load_notes
    from .memoria.logs import LogError
    from .memoria.render import write
    from .profile import convocatoria_of
    from .yamlsource import SourceErrors
    try:
        profiles = load_for_run(args, check_files=False)
        notes = load_notes(args.incidents) if args.incidents else None
    except SourceErrors as exc:
        _print_source_errors(exc)
        return EXIT_USAGE
    profile = profiles[0]
    try:
        logs = args.access_log or (profile.analytics.access_logs if profile.analytics else [])
        doc = memoria_doc(profile, convocatoria_of(profile), [Path(p) for p in logs],
                          Path(args.watch_db) if args.watch_db else None, notes,
                          idle_timeout_s=args.idle_timeout * 60, fmt=args.log_format)
    except (LogError, WatchDbError) as exc:
        print(f"memoria: {exc}", file=sys.stderr)
        return EXIT_USAGE
    paths = write(doc, Path(args.out), args.lang, pdf=not args.no_pdf)
    for kind in ("html", "pdf", "json"):
        if kind in paths:
            print(f"{kind}: {paths[kind].resolve()}")
    return EXIT_OK


def pinned_mismatches(docs: list[dict], names: list[str], pinned) -> list[str]:
    """Runs (or difusores) of ``docs`` judged against another convocatoria than ``pinned`` (by SHA-256)."""
    bad = []
    for name, doc in zip(names, docs):
        for d in doc.get("difusores", []):
            conv = d.get("convocatoria") or {}
            sha = conv.get("sha256") if isinstance(conv, dict) else None
            if sha != pinned.sha256:
                bad.append(f"{name}: {d.get('id')}: {conv.get('id') if isinstance(conv, dict) else doc.get('convocatoria')} "
                           f"(SHA-256 {sha or 'desconocido / unknown'})")
    return bad


def _delegate(module: str, argv: list[str]) -> int:
    import importlib
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        print(f"not available in this build: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return int(mod.main(argv) or 0)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="prep-conformance", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"prep-conformance {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="check difusores and write results.json, index.html, <id>.html, junit.xml")
    run.add_argument("--profile", action="append", required=True, metavar="FILE|DIR",
                     help="difusor profile or folder of profiles (repeatable)")
    run.add_argument("--out", default="reports", metavar="DIR", help="output folder (default: reports)")
    run.add_argument("--only", action="append", default=[], metavar="ID",
                     help="only this requirement ID (repeatable), e.g. --only II.1.e")
    run.add_argument("--lang", choices=("es", "en"), default="es", help="report language (default: es)")
    run.add_argument("-n", "--workers", type=int, default=0,
                     help="run checks in N processes (pytest-xdist); a difusor's checks stay on one worker")
    run.add_argument("--watch-db", metavar="FILE",
                     help="the institute's watch db (watch --db): II.4 compares the memoria's incidents with it")
    run.add_argument("--as-of", metavar="YYYY-MM-DD",
                     help="judge deadlines (II.4) as of this date instead of today (also $PREP_AS_OF)")
    run.add_argument("--allow-remote-load", action="store_true",
                     help="allow the load test against a non-loopback target (the profile must authorise it too)")
    add_trust_options(run)
    run.add_argument("--decisions", metavar="FILE", default=None,
                     help="reviewers' decisions (YAML); a requirement becomes PASS/FAIL only through one")
    run.add_argument("--pdf", action="store_true", help="also write <id>.pdf per dictamen and index.pdf (WeasyPrint)")
    run.add_argument("-v", "--verbose", action="store_true", help="one line per check")
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments after --")
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="validate profiles; list profile errors and what would fail")
    val.add_argument("files", nargs="+", metavar="FILE|DIR")
    val.add_argument("--lang", choices=("es", "en"), default="es")
    add_trust_options(val)
    val.set_defaults(func=cmd_validate)

    ini = sub.add_parser("init", help="write a commented example profile (Spanish comments)")
    ini.add_argument("path", nargs="?", default="perfil.yaml")
    ini.add_argument("--force", action="store_true")
    ini.set_defaults(func=cmd_init)

    rep = sub.add_parser("report", help="re-render and merge earlier runs' results.json into one report")
    rep.add_argument("dirs", nargs="*", metavar="DIR|results.json")
    rep.add_argument("--watch-db", nargs="+", action="extend", default=[], metavar="FILE",
                     help="election-night watch db(s) (several vantage points merge): adds I.2, time-weighted "
                          "I.9/II.2.e and each difusor's incidents and timeline")
    rep.add_argument("--out", required=True, metavar="DIR")
    rep.add_argument("--lang", choices=("es", "en"), default="es")
    rep.add_argument("--convocatoria", metavar="ID|FILE",
                     help="pin the institute's convocatoria: a run judged against another one is refused")
    rep.add_argument("--decisions", metavar="FILE", default=None,
                     help="reviewers' decisions (YAML): shown beside the tool's verdict; final verdicts follow them")
    rep.add_argument("--pdf", action="store_true", help="also write <id>.pdf per dictamen and index.pdf (WeasyPrint)")
    rep.set_defaults(func=cmd_report)

    mem = sub.add_parser("memoria", help="write the memoria técnica (II.4): HTML + PDF from access logs and the watch")
    mem.add_argument("--profile", required=True, metavar="FILE", help="the difusor's profile")
    mem.add_argument("--access-log", nargs="*", action="extend", default=[], metavar="FILE",
                     help="access logs: nginx/Apache combined or common, CloudFront, JSON lines; plain or .gz; "
                          "rotations in any order (repeatable; default: the profile's analytics.access_logs)")
    mem.add_argument("--log-format", choices=("clf", "cloudfront", "jsonl"), default=None,
                     help="force the logs' format (default: detected per file)")
    mem.add_argument("--watch-db", metavar="FILE", help="the institute's watch db (prep-conformance watch --db)")
    mem.add_argument("--incidents", metavar="FILE",
                     help="the difusor's notes (YAML): root cause, impact and measures per incident; conclusions")
    mem.add_argument("--idle-timeout", type=float, default=30, metavar="MIN",
                     help="a visit ends after this many minutes without a request (default: 30)")
    mem.add_argument("--out", required=True, metavar="DIR", help="writes memoria.html, memoria.pdf, memoria.json")
    mem.add_argument("--lang", choices=("es", "en"), default="es")
    mem.add_argument("--no-pdf", action="store_true", help="HTML and JSON only")
    add_trust_options(mem)
    mem.set_defaults(func=cmd_memoria)

    for name, help_ in (("monitor", "poll main.json at an interval and log availability samples (II.2.e)"),
                        ("lab", "the reference lab: up | down | status"),
                        ("demo", "lab up, check every scenario, write reports, lab down"),
                        ("paquete", "the synthetic paquete de difusión: generate"),
                        ("watch", "election night: watch every difusor, incidents, availability, board, metrics")):
        sp = sub.add_parser(name, help=help_, add_help=False)
        sp.add_argument("rest", nargs=argparse.REMAINDER)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("lab", "demo", "paquete", "monitor", "watch"):
        module = {"lab": "prep_conformance.lab.cli", "demo": "prep_conformance.lab.cli",
                  "paquete": "prep_conformance.paquete", "monitor": "prep_conformance.monitor",
                  "watch": "prep_conformance.watch.cli"}[argv[0]]
        return _delegate(module, argv if argv[0] == "demo" else argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrumpido / interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
