from prep_conformance.verdict import CheckResult, Note, Verdict, aggregate_requirements, overall, worst, result


def test_worst_follows_contract_order():
    order = ["FAIL", "ERROR", "MANUAL", "WARN", "PASS", "SKIP"]
    for i, v in enumerate(order):
        assert worst(order[i:]) is Verdict(v)
    assert worst([]) is Verdict.SKIP


def test_aggregate_fills_every_id_and_takes_worst():
    rs = [result("II.1.e", "a", "PASS", "x"), result("II.1.e", "b", "WARN", "y"), result("I.3", "c", "ERROR", "z")]
    agg = aggregate_requirements(rs, ["I.3", "II.1.e", "II.2.c"])
    assert agg == {"I.3": Verdict.ERROR, "II.1.e": Verdict.WARN, "II.2.c": Verdict.MANUAL}
    assert overall(agg) is Verdict.ERROR


def test_check_result_round_trips_through_json_dict():
    r = CheckResult("II.1.d", "upload", Verdict.FAIL, "lento", "slow", {"mb_s": 19.8}, (Note("warn", "n", "n"),), 1.5)
    assert CheckResult.from_dict(r.to_dict()) == r
    assert r.to_dict()["verdict"] == "FAIL"
