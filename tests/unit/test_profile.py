import textwrap
from pathlib import Path

import pytest

from prep_conformance.profile import load_profile, load_profiles
from prep_conformance.yamlsource import SourceErrors

DATA = Path(__file__).resolve().parents[1] / "data"


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def errors_of(*paths) -> list[str]:
    with pytest.raises(SourceErrors) as ei:
        load_profiles(list(paths))
    return [str(e) for e in ei.value.errors]


def test_example_profiles_load():
    p = load_profile(DATA / "docs_ok.yaml")
    assert p.id == "medio-ejemplo" and p.target_url.startswith("https://")
    assert Path(p.documents.logo).is_absolute() and Path(p.documents.logo).exists()
    assert len(p.digest) == 64


@pytest.mark.parametrize("body, line, key, words", [
    ("id: a\nsites: {test: https://x.example/}\nbogus: 1\n", 3, "bogus", "unknown key"),
    ("sites: {test: https://x.example/}\n", 1, "id", "required"),
    ("id: a\nsites:\n  test: x.example\n", 3, "sites.test", "http"),
    ("id: a\nsites: {test: https://x.example/}\nssh:\n  host: h\n  port: veintidos\n  username: u\n"
     "  password_env: P\n  known_hosts: kh\n  upload_dir: /u\n", 5, "ssh.port", "integer"),
    ("id: a\nsites: {test: https://x.example/}\ndocuments:\n  logo: missing.svg\n", 4, "documents.logo", "not found"),
    ("id: a\nsites: {test: https://x.example/}\nhttp:\n  resolve: {x.example: not-an-ip}\n", 4, "http.resolve", "IP"),
    ("id: a\nsites: {test: https://x.example/}\ncdn:\n  purge: {method: FLUSH, url: http://x/}\n", 4,
     "cdn.purge.method", "PURGE"),
    ("id: a\nsites: {test: https://x.example/}\ntarget: official\n", 1, "", "sites.official"),
    ("id: a\nsites: {test: https://x.example/}\nssh:\n  host: h\n  username: u\n  known_hosts: kh\n"
     "  upload_dir: /u\n  password_env: bad-name\n", 8, "ssh.password_env", "environment variable"),
    ("id: a\nsites: [unclosed\n", 3, "", "YAML syntax"),
    ("id: a\nsites: {test: https://x.example/}\nconvocatoria: no-such-call\n", 3, "convocatoria", "bundled"),
    ("id: a\nsites: {test: https://x.example/}\nload: {users: -5}\n", 3, "load.users", "greater"),
])
def test_every_profile_error_names_file_line_and_key(tmp_path, body, line, key, words):
    (msg,) = [m for m in errors_of(write(tmp_path, body)) if words.lower() in m.lower()]
    assert msg.startswith(f"{tmp_path / 'p.yaml'}:{line}: ")
    if key:
        assert f": {key}: " in msg


def test_all_errors_of_all_files_are_reported_at_once(tmp_path):
    a = write(tmp_path, "id: a\nsites: {test: https://x.example/}\nzzz: 1\nyyy: 2\n", "a.yaml")
    b = write(tmp_path, "id: B C\nsites: {test: https://x.example/}\n", "b.yaml")
    msgs = errors_of(a, b)
    assert sum("a.yaml" in m for m in msgs) == 2 and sum("b.yaml" in m for m in msgs) == 1


def test_duplicate_ids_are_an_error(tmp_path):
    a = write(tmp_path, "id: a\nsites: {test: https://x.example/}\n", "a.yaml")
    b = write(tmp_path, "id: a\nsites: {test: https://y.example/}\n", "b.yaml")
    assert any("duplicate id" in m for m in errors_of(a, b))


def test_application_data_is_not_a_profile_error(tmp_path):
    p = write(tmp_path, "id: a\nsites: {test: https://x.example/}\ncontact: {email: no-at-sign, phone: abc}\n"
                        "staff: [{name: X}]\n")
    prof = load_profile(p)
    assert prof.contact.email == "no-at-sign"


def test_folder_of_profiles(tmp_path):
    write(tmp_path, "id: a\nsites: {test: https://x.example/}\n", "a.yaml")
    write(tmp_path, "id: b\nsites: {test: https://x.example/}\n", "b.yml")
    assert [p.id for p in load_profiles([tmp_path])] == ["a", "b"]
