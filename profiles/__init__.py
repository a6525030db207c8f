"""Bundled data: convocatoria files and the example profile (shipped as ``prep_conformance.profiles``)."""
