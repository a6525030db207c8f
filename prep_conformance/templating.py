"""The jinja2 environment every report template is rendered in (dictamen, index, memoria, watch board)."""

from __future__ import annotations

import jinja2


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """jinja2's own cache of compiled templates, in its private per-user temp folder (refused by jinja2
    unless owned by this user and mode 0700), keyed by each template's checksum, so an edited template
    is compiled again. Compiling the report's templates is ~0.25 s of every run that writes a report."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass    # a cache that cannot be written costs time, never a report


def _cache() -> jinja2.BytecodeCache | None:
    try:
        return _BytecodeCache()
    except (OSError, RuntimeError):    # no safe temp folder: compile every time
        return None


def environment(package: str) -> jinja2.Environment:
    """The templates in ``package``'s ``templates/`` folder, autoescaped, blocks trimmed."""
    return jinja2.Environment(loader=jinja2.PackageLoader(package, "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
                              trim_blocks=True, lstrip_blocks=True, bytecode_cache=_cache())
