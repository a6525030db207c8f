"""Operations scenarios (II.2.c visitor statistics, II.2.e availability): what the difusor declares."""

from prep_conformance.lab.scenario import Scenario

SCENARIOS = [
    Scenario("ops-sla-below", "Declara un SLA de 99 %, menor que el 99.9 % mensual requerido",
             "Declares a 99 % SLA, below the required 99.9 % monthly", family="operations",
             expect={"II.2.e": "FAIL"},
             profile={"availability": {"sla": 0.99}, "analytics": {"provider": "GoAccess (bitácoras del servidor)"}}),
]
