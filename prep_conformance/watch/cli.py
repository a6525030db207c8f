"""``prep-conformance watch``: every difusor of the profiles watched at once through the publication window.

    prep-conformance watch --profile FILE|DIR [--reference URL | --paquetes DIR] --db FILE
                           [--interval S] [--until ISO | --duration S]
                           [--board-port P] [--metrics-port P] [--bind ADDR] [--lang es|en]

Stops by itself (the window's end by default, ``--until`` or ``--duration``) or on Ctrl-C / SIGTERM;
a restart on the same ``--db`` resumes (the time in between is counted as unknown).
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="prep-conformance watch", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--profile", action="append", required=True, metavar="FILE|DIR",
                    help="difusor profile(s) or folder(s) of profiles (repeatable)")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--reference", metavar="URL", help="the institute's own publication (its main.json names the newest corte)")
    src.add_argument("--paquetes", metavar="DIR", help="folder where the institute's paquetes arrive (one per corte)")
    ap.add_argument("--db", required=True, metavar="FILE", help="SQLite file for samples and incidents (resumed if it exists)")
    ap.add_argument("--interval", type=float, default=60.0, metavar="S", help="seconds between polls of a difusor (default 60)")
    stop = ap.add_mutually_exclusive_group()
    stop.add_argument("--until", metavar="ISO", help="stop at this time (ISO 8601 with UTC offset)")
    stop.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    ap.add_argument("--board-port", type=int, metavar="P", help="serve the live board on this port")
    ap.add_argument("--metrics-port", type=int, metavar="P", help="serve Prometheus metrics on this port")
    ap.add_argument("--bind", default="127.0.0.1", metavar="ADDR", help="address of the board and metrics (default 127.0.0.1)")
    ap.add_argument("--lang", choices=("es", "en"), default="es", help="board and log language (default es)")
    ap.add_argument("--board-refresh", type=int, metavar="S",
                    help="seconds between the board page's own reloads (default: the interval, 1 to 10 s)")
    ap.add_argument("--concurrency", type=int, default=32, metavar="N", help="polls in flight at most (default 32)")
    ap.add_argument("--deadline", type=float, metavar="S", help="total deadline of one poll (default: 80 %% of the interval, at most 10 s)")
    ap.add_argument("--hysteresis", type=int, default=2, metavar="N",
                    help="consecutive samples that open or close an incident (default 2)")
    ap.add_argument("--jitter", type=float, default=0.1, metavar="F", help="interval jitter, fraction (default 0.1)")
    ap.add_argument("-q", "--quiet", action="store_true", help="no log lines, only the final summary")
    from ..cli import add_trust_options
    add_trust_options(ap)            # --trust-profile, --trust-file, --convocatoria (docs/security.md)
    return ap


def _parse_until(text: str) -> float:
    d = dt.datetime.fromisoformat(text)
    if d.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2024-06-03T20:00:00-06:00")
    return d.timestamp()


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    from ..cli import load_for_run
    from ..profile import convocatoria_of
    from ..yamlsource import SourceErrors
    if args.interval <= 0:
        ap.error("--interval must be positive")
    if args.duration is not None and args.duration <= 0:
        ap.error("--duration must be positive")
    if args.hysteresis < 1 or args.concurrency < 1:
        ap.error("--hysteresis and --concurrency must be at least 1")
    try:
        profiles = load_for_run(args)          # untrusted by default; --convocatoria pins the call
        convs = [convocatoria_of(p) for p in profiles]
    except SourceErrors as exc:
        print("Errores de perfil (no se vigiló nada) / profile errors (nothing was watched):", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e}", file=sys.stderr)
        return EXIT_USAGE
    conv = convs[0]
    if any(c.id != conv.id or c.publication != conv.publication for c in convs[1:]):
        print("Los perfiles nombran convocatorias distintas; fije una con --convocatoria / the profiles name "
              "different convocatorias; pin one with --convocatoria", file=sys.stderr)
        return EXIT_USAGE
    ws, we = conv.publication.start.timestamp(), conv.publication.end.timestamp()
    tz = conv.publication.start.tzinfo
    now = time.time()
    try:
        until = (_parse_until(args.until) if args.until else now + args.duration if args.duration else we)
    except ValueError as exc:
        ap.error(f"--until: {exc}")
    if until <= now:
        print(f"La ventana de publicación ya terminó o --until ya pasó; use --duration / the publication window "
              f"is over or --until has passed; give --duration", file=sys.stderr)
        return EXIT_USAGE

    from .reference import PaquetesDir, Reference, ReferenceUrl
    if args.reference:
        source = ReferenceUrl(args.reference)      # the operator's URL: normal resolution, system trust
    elif args.paquetes:
        if not Path(args.paquetes).is_dir():
            ap.error(f"--paquetes: not a folder: {args.paquetes}")
        source = PaquetesDir(args.paquetes)
    else:
        dirs = {str(Path(p.package).parent) for p in profiles if p.package}
        if len(dirs) != 1:
            ap.error("give --reference URL or --paquetes DIR (the profiles' package: do not name one folder)")
        source = PaquetesDir(dirs.pop())

    from .poller import Target
    from .runner import LiveState, Options, Watcher
    from .store import Store
    fetch = getattr(conv, "fetch", None)
    ceiling = float(fetch.deadline_s.main_json) if fetch is not None else 10.0
    deadline = args.deadline or min(ceiling, 0.8 * args.interval)
    opts = Options(interval_s=args.interval, until=until, window=(ws, we), tz=tz,
                   cache_control=conv.main_json.cache_control, tolerance_s=conv.freshness.max_lag_min * 60,
                   threshold=conv.thresholds.availability, jitter=max(0.0, min(args.jitter, 0.5)),
                   deadline_s=deadline, concurrency=args.concurrency, n_open=args.hysteresis,
                   n_close=args.hysteresis)
    targets = [Target.from_profile(p, conv) for p in profiles]
    store = Store(args.db, tz)
    store.set_meta({"convocatoria": conv.id, "window_start": ws, "window_end": we, "interval_s": args.interval,
                    "threshold": opts.threshold, "tolerance_s": opts.tolerance_s, "n_open": opts.n_open,
                    "n_close": opts.n_close, "max_gap_s": opts.gap_s, "corte_interval_min": conv.corte_interval_min,
                    "utc_offset_s": conv.publication.start.utcoffset().total_seconds(), "reference": source.describe()})
    store.add_difusores((p.id, p.name, p.target_url) for p in profiles)
    reference = Reference(source)
    live = LiveState(opts, targets, reference)
    quiet = args.quiet
    log = (lambda m: None) if quiet else (lambda m: print(f"{time.strftime('%H:%M:%S')} {m}", flush=True))
    watcher = Watcher(targets, reference, store, opts, live, log)

    servers = []
    try:
        if args.metrics_port is not None:
            from .metrics import serve_metrics
            servers.append(serve_metrics(live, args.bind, args.metrics_port))
            log(f"métricas / metrics: http://{args.bind}:{args.metrics_port}/metrics")
        if args.board_port is not None:
            from .board import serve_board
            servers.append(serve_board(live, args.bind, args.board_port, args.lang, args.board_refresh))
            log(f"tablero / board: http://{args.bind}:{args.board_port}/")
    except OSError as exc:
        for s in servers:
            s.shutdown()
        print(f"no se pudo abrir el puerto / cannot listen: {exc}", file=sys.stderr)
        return EXIT_USAGE

    def _stop(signum, frame):   # noqa: ARG001
        watcher.stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    if now < ws and not (args.until or args.duration):
        log(f"esperando el inicio de la ventana / waiting for the window to open: {conv.publication.start.isoformat()}")
        watcher.stop.wait(ws - now)
    log(f"vigilando {len(targets)} difusores cada {args.interval:g} s hasta "
        f"{dt.datetime.fromtimestamp(until, tz).isoformat(timespec='seconds')} ({source.describe()}) → {args.db}")
    try:
        reason = watcher.run() if not watcher.stop.is_set() else "signal"
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        for s in servers:
            s.shutdown()
        for t in targets:
            t.close()
        source.close()
        store.close()
    snap = live.snapshot()
    bad = [r for r in snap["rows"] if r["open"] or sum(r["incidents_total"].values())]
    print(f"fin / stopped ({reason}): {snap['polls_total']} muestras / samples, "
          f"{sum(sum(r['incidents_total'].values()) for r in snap['rows'])} incidentes / incidents → {args.db}")
    return EXIT_FINDINGS if bad else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
