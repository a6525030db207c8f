"""Pure evaluation rules, one module per requirement family: ``evaluate(observation, thresholds) -> CheckResult``."""
