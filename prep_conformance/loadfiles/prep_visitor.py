"""PREP visitor for Locust: opens the results site, then polls main.json like the page does.

Runs only inside ``locust`` (gevent-patched); self-contained (stdlib + locust + the package's
``cache_status``, itself stdlib only) so that a remote worker started with ``locust -f - --worker``
can receive it from the master: the master is started with ``-f prep_visitor.py,cache_status.py``
(``loadfiles.LOCUSTFILES``) and sends both files. Every setting is a ``--prep-*`` option, which
Locust forwards from the master to its workers.

Besides Locust's own statistics it tallies what every ``main.json`` answer carried (the
Cache-Control line, the corte ``secuencia``, answers served from a cache as ``cache_status`` defines
a hit, the same definition II.1.e applies at rest and the purge applies).
Workers send their tally with each stats report; the master (or the single process) writes it to
``--prep-tally-file`` when it quits.
"""

import json
import random
import threading
import time

import gevent.socket
import gevent.ssl
from locust import FastHttpUser, between, constant, events, task

try:
    from prep_conformance import cache_status
except ImportError:     # a remote worker: the master sent cache_status.py beside this file
    import cache_status

_TALLY_LOCK = threading.Lock()
_MAX_DISTINCT = 20


def _empty_tally():
    return {"responses": 0, "ok": 0, "bad_json": 0, "cache_control": {}, "secuencia": {},
            "cache_hits": 0, "hit_examples": [], "age_max": 0}


TALLY = _empty_tally()


def _bump(counter, key, n=1):
    key = str(key)
    if key in counter or len(counter) < _MAX_DISTINCT:
        counter[key] = counter.get(key, 0) + n


def merge_tally(into, other):
    """Add one tally into another (master side)."""
    for k in ("responses", "ok", "bad_json", "cache_hits"):
        into[k] += other.get(k, 0)
    into["age_max"] = max(into["age_max"], other.get("age_max", 0))
    for k in ("cache_control", "secuencia"):
        for key, n in other.get(k, {}).items():
            _bump(into[k], key, n)
    for ex in other.get("hit_examples", []):
        if len(into["hit_examples"]) < 5:
            into["hit_examples"].append(ex)


@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--prep-main-json", default="/json/main.json", help="path of main.json")
    parser.add_argument("--prep-page", default="/", help="path of the results page")
    parser.add_argument("--prep-poll", default="2,5", help="think time between a visitor's requests: MIN,MAX s")
    parser.add_argument("--prep-weights", default="poll=6,data=3,page=1", help="task weights")
    parser.add_argument("--prep-page-assets", default="[]", help="JSON list: paths the page loads (css, js)")
    parser.add_argument("--prep-data-files", default="[]", help="JSON list: JSON/CSV paths the page fetches")
    parser.add_argument("--prep-resolve", default="{}", help="JSON object: host name -> IP address")
    parser.add_argument("--prep-verify", default="off", help="on: verify TLS certificates (off: trust is "
                        "judged by another check; the load must not fail on it)")
    parser.add_argument("--prep-ca-bundle", default="", help="extra trust anchors (PEM) for HTTPS")
    parser.add_argument("--prep-timeout", default="10", help="connect/read timeout per request, s")
    parser.add_argument("--prep-cache-bust", default="off", help="off | query: add ?_=<ms> to main.json polls")
    parser.add_argument("--prep-tally-file", default="", help="where the master writes the main.json tally")


_REAL_GETADDRINFO = gevent.socket.getaddrinfo


def _pin(resolve):
    """Send pinned host names to their address (the profile's http.resolve), keeping Host and SNI."""
    if not resolve:
        gevent.socket.getaddrinfo = _REAL_GETADDRINFO
        return

    def getaddrinfo(host, *args, **kwargs):
        return _REAL_GETADDRINFO(resolve.get(str(host).lower(), host), *args, **kwargs)

    gevent.socket.getaddrinfo = getaddrinfo


def _context(ca):
    """System trust anchors plus the profile's CA bundle, hostname checked (as probes.http does)."""
    ctx = gevent.ssl.create_default_context()
    ctx.load_verify_locations(cafile=ca)
    return ctx


def _hget(headers, name, default=None):
    """One field value; duplicate lines (geventhttpclient gives a list) merged by ", " (RFC 9110 5.3)."""
    v = headers.get(name)
    if v is None:
        return default
    return ", ".join(str(x) for x in v) if isinstance(v, (list, tuple)) else str(v)


def classify(headers):
    """How this answer's headers read (``cache_status.read``): the one definition of a cache hit."""
    return cache_status.read(headers)


def _weights(text):
    out = {"poll": 6.0, "data": 3.0, "page": 1.0}
    for part in filter(None, (p.strip() for p in text.split(","))):
        k, _, v = part.partition("=")
        out[k.strip()] = float(v)
    return out


def _configure(opts):
    PrepVisitor.main_json = opts.prep_main_json
    PrepVisitor.page = opts.prep_page
    lo, _, hi = opts.prep_poll.partition(",")
    lo, hi = float(lo), float(hi or lo)
    PrepVisitor.wait_time = constant(lo) if hi <= lo else between(lo, hi)
    PrepVisitor.page_assets = list(json.loads(opts.prep_page_assets))
    PrepVisitor.data_files = list(json.loads(opts.prep_data_files))
    PrepVisitor.cache_bust = opts.prep_cache_bust == "query"
    timeout = float(opts.prep_timeout)
    PrepVisitor.connection_timeout = timeout
    PrepVisitor.network_timeout = timeout
    PrepVisitor.insecure = opts.prep_verify != "on"
    ca = opts.prep_ca_bundle
    # staticmethod: a plain function on the class would be bound and get the user as an argument
    PrepVisitor.ssl_context_factory = staticmethod(lambda: _context(ca)) if ca and not PrepVisitor.insecure else None
    _pin({str(k).lower(): str(v) for k, v in json.loads(opts.prep_resolve).items()})
    w = _weights(opts.prep_weights)
    if not PrepVisitor.data_files:
        w["poll"] += w.pop("data", 0)
        w["data"] = 0
    scale = [(PrepVisitor.poll_main_json, w.get("poll", 0)), (PrepVisitor.fetch_data, w.get("data", 0)),
             (PrepVisitor.open_site, w.get("page", 0))]
    tasks = []
    for fn, weight in scale:
        tasks += [fn] * int(round(weight))
    PrepVisitor.tasks = tasks or [PrepVisitor.poll_main_json]


@events.test_start.add_listener
def _on_test_start(environment, **_kw):
    if environment.parsed_options is not None:
        _configure(environment.parsed_options)


@events.report_to_master.add_listener
def _on_report_to_master(client_id, data):
    global TALLY
    with _TALLY_LOCK:
        data["prep_tally"], TALLY = TALLY, _empty_tally()


@events.worker_report.add_listener
def _on_worker_report(client_id, data):
    with _TALLY_LOCK:
        if "prep_tally" in data:
            merge_tally(TALLY, data["prep_tally"])


@events.quitting.add_listener
def _on_quitting(environment, **_kw):
    opts = environment.parsed_options
    if opts is None or getattr(opts, "worker", False) or not opts.prep_tally_file:
        return
    with _TALLY_LOCK, open(opts.prep_tally_file, "w", encoding="utf-8") as fh:
        json.dump(TALLY, fh)


class PrepVisitor(FastHttpUser):
    """A citizen on election night: opens the page, then keeps polling the corte."""

    abstract = False
    main_json = "/json/main.json"
    page = "/"
    page_assets: list = []
    data_files: list = []
    cache_bust = False
    wait_time = between(2, 5)
    connection_timeout = 10.0
    network_timeout = 10.0
    insecure = False

    def on_start(self):
        self.open_site()

    def open_site(self):
        self.client.get(self.page, name=f"{self.page} (page)")
        for path in self.page_assets:
            self.client.get(path, name=path)

    def poll_main_json(self):
        url = self.main_json
        if self.cache_bust:
            url += ("&" if "?" in url else "?") + f"_={int(time.time() * 1000)}"
        with self.client.get(url, name=self.main_json, catch_response=True) as resp:
            self._tally(resp)

    def fetch_data(self):
        if self.data_files:
            path = random.choice(self.data_files)
            self.client.get(path, name=path)

    def _tally(self, resp):
        with _TALLY_LOCK:
            TALLY["responses"] += 1
            if resp.status_code != 200:
                return  # Locust already counts it as a failure
            TALLY["ok"] += 1
            h = resp.headers
            _bump(TALLY["cache_control"], _hget(h, "Cache-Control", "<absent>"))
            try:
                doc = json.loads(resp.content)
                seq = doc.get("secuencia") if isinstance(doc, dict) else None
            except ValueError:
                doc, seq = None, None
            if doc is None:
                TALLY["bad_json"] += 1
                resp.failure("main.json: respuesta no es JSON / not JSON")
                return
            _bump(TALLY["secuencia"], seq if seq is not None else "<none>")
            reading = classify(h)
            if reading.hit:
                TALLY["cache_hits"] += 1
                TALLY["age_max"] = max(TALLY["age_max"], reading.age or 0)
                if len(TALLY["hit_examples"]) < 5:
                    xcache = _hget(h, "X-Cache") or _hget(h, "X-Cache-Status") or _hget(h, "CF-Cache-Status")
                    TALLY["hit_examples"].append(
                        {"age": _hget(h, "Age"), "x_cache": xcache, "cache_control": _hget(h, "Cache-Control"),
                         "lines": list(reading.lines), "signal": reading.kind})


PrepVisitor.tasks = [PrepVisitor.poll_main_json]
