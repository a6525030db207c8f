"""DNS probe (dnspython): A/AAAA, the CNAME chain and the relevant CAA set of the site's name.

Asks the resolver the profile names (``dns.nameserver``/``dns.port``; the lab runs its own
authoritative server on a loopback port), never the machine's resolver unless the profile says so.
Every query has a lifetime; a failure is an observation (``error``), not an exception.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DnsObservation:
    """What the resolver said about one name.

    Attributes:
        name: the name asked; nameserver ``ip:port``.
        cname_chain: the aliases followed, in order (without ``name``); canonical: the last name.
        a, aaaa: addresses of the canonical name.
        caa: the relevant CAA records (``0 issue "ca.example"``) and ``caa_owner`` where they were found.
        rcode: ``NOERROR`` | ``NXDOMAIN`` | ...; error: timeout or other failure text (then nothing else is known).
    """

    name: str
    nameserver: str
    cname_chain: tuple[str, ...] = ()
    canonical: str = ""
    a: tuple[str, ...] = ()
    aaaa: tuple[str, ...] = ()
    caa: tuple[str, ...] = ()
    caa_owner: str | None = None
    rcode: str = "NOERROR"
    error: str | None = None
    elapsed_s: float = 0.0
    observed_at: float = field(default_factory=time.time)

    def to_evidence(self) -> dict[str, Any]:
        return {"name": self.name, "nameserver": self.nameserver, "cname_chain": list(self.cname_chain),
                "canonical": self.canonical, "A": list(self.a), "AAAA": list(self.aaaa), "CAA": list(self.caa),
                "caa_owner": self.caa_owner, "rcode": self.rcode, "error": self.error,
                "elapsed_s": round(self.elapsed_s, 4)}


def _resolver(nameserver: str, port: int, timeout_s: float):
    import dns.resolver
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [nameserver]
    r.port = port
    r.timeout = min(timeout_s, 2.0)
    r.lifetime = timeout_s
    r.cache = None
    return r


def lookup(name: str, nameserver: str, port: int = 53, timeout_s: float = 3.0) -> DnsObservation:
    """Resolve ``name`` (A, AAAA with their CNAME chain) and find its relevant CAA set (RFC 8659 §3)."""
    import dns.exception
    import dns.name
    import dns.rdatatype
    import dns.resolver

    t0 = time.perf_counter()
    ns = f"{nameserver}:{port}"
    r = _resolver(nameserver, port, timeout_s)
    chain: list[str] = []
    canonical = name.rstrip(".")
    addrs: dict[str, tuple[str, ...]] = {"A": (), "AAAA": ()}
    try:
        for rtype in ("A", "AAAA"):
            ans = r.resolve(name, rtype, raise_on_no_answer=False, search=False)
            if not chain:
                cr = getattr(ans, "chaining_result", None)
                cnames = [rr for rrset in (cr.cnames if cr else []) for rr in rrset]
                chain = [str(rr.target).rstrip(".") for rr in cnames]
                canonical = str(ans.canonical_name).rstrip(".")
            if ans.rrset is not None:
                addrs[rtype] = tuple(sorted(rr.address for rr in ans.rrset))
    except dns.resolver.NXDOMAIN as exc:
        return DnsObservation(name, ns, rcode="NXDOMAIN", error=None,
                              canonical=str(getattr(exc, "canonical_name", name)).rstrip("."),
                              elapsed_s=time.perf_counter() - t0)
    except (dns.exception.Timeout, dns.resolver.LifetimeTimeout) as exc:
        return DnsObservation(name, ns, rcode="TIMEOUT", error=f"timeout: {exc}"[:300],
                              elapsed_s=time.perf_counter() - t0)
    except (dns.resolver.NoNameservers, dns.exception.DNSException) as exc:
        return DnsObservation(name, ns, rcode="SERVFAIL", error=f"{type(exc).__name__}: {exc}"[:300],
                              elapsed_s=time.perf_counter() - t0)
    caa: tuple[str, ...] = ()
    owner = None
    # CAA: the first CAA RRset climbing from the canonical name towards the root (RFC 8659 §3)
    n = dns.name.from_text(canonical)
    while len(n.labels) > 2:
        try:
            ans = r.resolve(n, "CAA", raise_on_no_answer=False, search=False)
            if ans.rrset is not None:
                caa = tuple(sorted(rr.to_text() for rr in ans.rrset))
                owner = str(n).rstrip(".")
                break
        except dns.resolver.NXDOMAIN:
            pass
        except dns.exception.DNSException:
            break
        n = n.parent()
    return DnsObservation(name, ns, tuple(chain), canonical, addrs["A"], addrs["AAAA"], caa, owner,
                          elapsed_s=time.perf_counter() - t0)
