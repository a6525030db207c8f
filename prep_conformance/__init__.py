"""prep-conformance: checks a PREP difusor oficial against the convocatoria's requirements."""

__version__ = "0.1.0"
