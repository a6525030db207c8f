"""The lab's authoritative DNS for ``lab.prep.example``: a small dnslib server on a loopback port (UDP+TCP).

Every scenario's host is a CNAME chain ``<sid>.lab.prep.example -> <sid>.edge.lab.prep.example ->
edge.lab.prep.example`` ending in ``A 127.0.0.1`` and ``AAAA ::1``; the zone apex carries CAA naming the
lab CA. A scenario may override its records with ``options={"dns": {"records": [...]}}`` (tuples
``(name, type, value)``) or ``{"dns": {"absent": True}}`` (NXDOMAIN). Run as a process by the lab:
``python -m prep_conformance.lab.dns --zone zone.json --port N``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .component import DOMAIN, Component, Context

CAA_ISSUER = "lab-ca.prep.example"


def zone_records(ctx: Context) -> list[tuple[str, str, str]]:
    """(name, type, value) for every scenario, the edge and the apex."""
    recs: list[tuple[str, str, str]] = [
        (DOMAIN, "CAA", f'0 issue "{CAA_ISSUER}"'),
        (f"edge.{DOMAIN}", "A", "127.0.0.1"),
        (f"edge.{DOMAIN}", "AAAA", "::1"),
    ]
    for sc in ctx.scenarios:
        opts = dict(sc.options.get("dns", {}) or {})
        if opts.get("absent"):
            continue
        if opts.get("records"):
            recs += [tuple(r) for r in opts["records"]]
            continue
        host = ctx.host(sc.id)
        recs += [(host, "CNAME", f"{sc.id}.edge.{DOMAIN}"), (f"{sc.id}.edge.{DOMAIN}", "CNAME", f"edge.{DOMAIN}"),
                 (f"{sc.id}-origin.{DOMAIN}", "A", "127.0.0.1")]
    return recs


class LabDns(Component):
    name = "dns"
    order = 5

    def available(self) -> str | None:
        try:
            import dnslib  # noqa: F401
        except ImportError:
            return "dnslib is not installed (pip install dnslib)"
        return None

    def plan(self, ctx: Context) -> None:
        ctx.port("lab", "dns")

    def start(self, ctx: Context) -> None:
        d = ctx.state / "dns"
        d.mkdir(parents=True, exist_ok=True)
        zone = d / "zone.json"
        zone.write_text(json.dumps(zone_records(ctx), indent=1))
        port = ctx.port("lab", "dns")
        ctx.spawn(self.name, "dns", [sys.executable, "-m", "prep_conformance.lab.dns", "--zone", str(zone),
                                     "--port", str(port)], ports=[port])

    def profile_for(self, scenario, ctx: Context) -> dict[str, Any]:
        return {"dns": {"nameserver": "127.0.0.1", "port": ctx.port("lab", "dns")}}


COMPONENT = LabDns()


# ---------------------------------------------------------------------------------------- the server
def _resolver_class():
    from dnslib import AAAA, CAA, CNAME, QTYPE, RCODE, RR, A, DNSLabel
    from dnslib.server import BaseResolver

    class ZoneResolver(BaseResolver):
        """Authoritative answers for the lab zone; follows CNAMEs inside the zone like a real server."""

        def __init__(self, records: list[tuple[str, str, str]], ttl: int = 30):
            self.ttl = ttl
            self.records: dict[str, list[tuple[str, str]]] = {}
            for name, rtype, value in records:
                self.records.setdefault(name.lower().rstrip("."), []).append((rtype.upper(), value))

        def _rdata(self, rtype: str, value: str):
            if rtype == "A":
                return A(value)
            if rtype == "AAAA":
                return AAAA(value)
            if rtype == "CNAME":
                return CNAME(value)
            if rtype == "CAA":
                flags, tag, val = value.split(" ", 2)
                return CAA(int(flags), tag, val.strip('"'))
            raise ValueError(rtype)

        def resolve(self, request, handler):
            reply = request.reply()
            reply.header.aa = 1
            qname = str(request.q.qname).lower().rstrip(".")
            qtype = QTYPE[request.q.qtype]
            name = qname
            for _ in range(8):          # follow in-zone CNAMEs
                recs = self.records.get(name)
                if recs is None:
                    break
                cname = [v for t, v in recs if t == "CNAME"]
                if cname and qtype != "CNAME":
                    reply.add_answer(RR(DNSLabel(name + "."), QTYPE.CNAME, ttl=self.ttl, rdata=CNAME(cname[0] + ".")))
                    name = cname[0].lower().rstrip(".")
                    continue
                for t, v in recs:
                    if t == qtype:
                        reply.add_answer(RR(DNSLabel(name + "."), getattr(QTYPE, t), ttl=self.ttl,
                                            rdata=self._rdata(t, v)))
                return reply
            known = name in self.records or any(k.endswith("." + name) for k in self.records)
            if name != qname or known or not (name == DOMAIN or name.endswith("." + DOMAIN)):
                return reply            # NODATA (or a chain leaving the zone)
            reply.header.rcode = RCODE.NXDOMAIN
            return reply

    return ZoneResolver


def serve(zone: Path, port: int, address: str = "127.0.0.1") -> None:
    from dnslib.server import DNSLogger, DNSServer
    records = [tuple(r) for r in json.loads(zone.read_text())]
    resolver = _resolver_class()(records)
    logger = DNSLogger(log="-request,-reply,-truncated,-data", prefix=False)
    servers = [DNSServer(resolver, port=port, address=address, logger=logger),
               DNSServer(resolver, port=port, address=address, tcp=True, logger=logger)]
    for s in servers:
        s.start_thread()
    print(f"lab dns: {len(records)} records on {address}:{port} (udp+tcp)", flush=True)
    try:
        while all(s.isAlive() for s in servers):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="lab authoritative DNS (dnslib)")
    ap.add_argument("--zone", required=True, type=Path)
    ap.add_argument("--port", required=True, type=int)
    ap.add_argument("--address", default="127.0.0.1")
    a = ap.parse_args(argv)
    serve(a.zone, a.port, a.address)
    return 0


if __name__ == "__main__":
    sys.exit(main())
