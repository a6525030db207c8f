"""Country of an IP address from an offline database: geoip2fast (PyPI) ships MaxMind's GeoLite2-Country
data (IPv4 and IPv6) inside its wheel, so nothing is downloaded and no address leaves the machine.

Its bundled data is country-level only: the memoria shows regions only when a database that has them is
given (none is bundled), and says so. Private and loopback addresses are one bucket ("red privada"),
addresses the database does not know another ("desconocido"): a country is never guessed.
"""

from __future__ import annotations

PRIVATE, UNKNOWN = "--", "??"


class Geo:
    """``country(ip) -> (code, name)``; ``source`` names the database and its date."""

    def __init__(self) -> None:
        from geoip2fast import GeoIP2Fast
        self._g = GeoIP2Fast(verbose=False, geoip2fast_data_file="geoip2fast-ipv6.dat.gz")
        info = self._g.get_database_info()
        self.source = f"geoip2fast {getattr(__import__('geoip2fast'), '__version__', '')} " \
                      f"({info.get('source_info', '')})".replace("  ", " ")
        self._cache: dict[str, tuple[str, str]] = {}

    def country(self, ip: str) -> tuple[str, str]:
        v = self._cache.get(ip)
        if v is not None:
            return v
        try:
            r = self._g.lookup(ip)
            if r.is_private or r.country_name in ("Localhost",) or r.country_code == PRIVATE and "rivate" in \
                    str(r.country_name):
                v = (PRIVATE, "")
            elif len(r.country_code or "") == 2 and r.country_code.isalpha():
                v = (r.country_code, r.country_name)
            else:
                v = (UNKNOWN, "")
        except Exception:   # an address the library cannot parse
            v = (UNKNOWN, "")
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[ip] = v
        return v


def load() -> Geo | None:
    """The bundled database, or None when the package is missing (the memoria then says so)."""
    try:
        return Geo()
    except Exception:
        return None
