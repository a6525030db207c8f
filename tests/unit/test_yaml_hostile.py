"""Hostile profiles (issue 11): every bound of ``yamlsource`` is an error with file and line, never a
traceback, a hang or unbounded memory."""

import resource
import time
from pathlib import Path

import pytest

from prep_conformance import yamlsource
from prep_conformance.profile import load_profiles
from prep_conformance.yamlsource import SourceErrors, load_yaml

HEAD = "id: a\nsites: {test: https://x.example/}\n"
SSH = "ssh:\n  host: h\n  username: u\n  password_env: P\n  known_hosts: kh\n  upload_dir: /u\n"


def errors(tmp_path: Path, text: str, name: str = "p.yaml") -> list[str]:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    with pytest.raises(SourceErrors) as ei:
        load_profiles([p], check_files=False)
    return [str(e) for e in ei.value.errors]


def billion_laughs() -> str:
    lines = ['l0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return HEAD + "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_expansion_fast_and_small(tmp_path):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    (msg,) = errors(tmp_path, billion_laughs())
    elapsed = time.monotonic() - t0
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert msg.startswith(f"{tmp_path / 'p.yaml'}:") and "alias" in msg
    assert elapsed < 5 and grown_kb < 200_000      # generous: it takes milliseconds and almost nothing


def test_recursive_alias_is_an_error(tmp_path):
    (msg,) = errors(tmp_path, "id: a\nsites: &s {test: https://x.example/, x: *s}\n")
    assert ":2: " in msg and "recursive alias" in msg


def test_a_few_aliases_still_work(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("base: &b {x: 1, y: [1, 2]}\nother: *b\n", encoding="utf-8")
    assert load_yaml(p).data["other"] == {"x": 1, "y": [1, 2]}


def test_file_over_the_size_bound_is_refused_unread(tmp_path):
    (msg,) = errors(tmp_path, HEAD + "# " + "x" * (yamlsource.MAX_BYTES + 10) + "\n")
    assert "MiB" in msg and msg.startswith(str(tmp_path / "p.yaml"))


def test_too_many_nodes_and_too_deep_are_refused(tmp_path):
    (msg,) = errors(tmp_path, HEAD + "x: [" + ",".join(["0"] * (yamlsource.MAX_NODES + 5)) + "]\n")
    assert ":3: " in msg and "too large" in msg
    (msg,) = errors(tmp_path, HEAD + "x: " + "[" * 3000 + "]" * 3000 + "\n")
    assert ":3: " in msg and "deeper" in msg


def test_duplicate_key_names_both_lines(tmp_path):
    (msg,) = errors(tmp_path, HEAD + "ssh:\n  host: h\n  port: 22\n  username: u\n  port: 2222\n"
                                     "  password_env: P\n  known_hosts: kh\n  upload_dir: /u\n")
    assert msg.startswith(f"{tmp_path / 'p.yaml'}:7: ssh.port: ")
    assert "lines 5 and 7" in msg and "líneas 5 y 7" in msg


def test_duplicate_top_level_key(tmp_path):
    (msg,) = errors(tmp_path, "id: a\nsites: {test: https://x.example/}\nid: b\n")
    assert ":3: id: " in msg and "1 and 3" in msg


@pytest.mark.parametrize("digits", [80, 5000, 100_000])
def test_absurd_number_names_file_line_and_key(tmp_path, digits):
    text = HEAD + SSH + "  port: " + "9" * digits + "\n"
    msgs = errors(tmp_path, text)
    assert any(m.startswith(f"{tmp_path / 'p.yaml'}:9: ssh.port: ") for m in msgs), msgs


def test_large_but_short_number_is_a_range_error(tmp_path):
    msgs = errors(tmp_path, HEAD + SSH + "  port: 99999999999\n")
    assert any(":9: ssh.port: " in m and "65535" in m for m in msgs)


def test_non_scalar_key_and_impossible_date_are_errors(tmp_path):
    (msg,) = errors(tmp_path, "id: a\n? [a, b]\n: 1\n")
    assert ":2: " in msg and "key" in msg
    msgs = errors(tmp_path, HEAD + "x: 2024-02-30\n")
    assert any(":3: x: " in m and "invalid value" in m for m in msgs)


def test_duplicate_ids_across_profiles_name_both_files_and_lines(tmp_path):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("id: dup\nsites: {test: https://x.example/}\n", encoding="utf-8")
    b.write_text("# comment\nsites: {test: https://y.example/}\nid: dup\n", encoding="utf-8")
    with pytest.raises(SourceErrors) as ei:
        load_profiles([a, b], check_files=False)
    (msg,) = [str(e) for e in ei.value.errors]
    assert msg.startswith(f"{b}:3: id: ") and f"{a}:1" in msg
