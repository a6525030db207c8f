"""The built wheel ships the checks and the data: a run from a folder outside the checkout finds them."""

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with our wheel (no deps: those come from this environment through a .pth file)."""
    base = tmp_path_factory.mktemp("pkg")
    wheels = base / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(wheels), str(ROOT)], check=True, timeout=300, cwd=base)
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    target = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    Path(target, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    wheel = next(wheels.glob("prep_conformance-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                   check=True, timeout=300)
    return env_dir


def test_wheel_holds_every_package_of_the_source(installed):
    """A subpackage missing from pyproject's list would be missing from the wheel: compare with the tree."""
    py = installed / "bin" / "python"
    src = sorted(str(p.parent.relative_to(ROOT)).replace("/", ".") for p in (ROOT / "prep_conformance").rglob("__init__.py"))
    code = ("import importlib\n"
            "from importlib import resources\n"
            f"for name in {src!r}:\n"
            "    m = importlib.import_module(name)\n"
            f"    assert {str(ROOT)!r} not in m.__file__, m.__file__\n"
            "assert resources.files('prep_conformance.lab').joinpath('templates').is_dir()\n"
            "assert resources.files('prep_conformance.report').joinpath('templates').is_dir()\n")
    p = subprocess.run([str(py), "-c", code], capture_output=True, text=True, cwd="/")
    assert p.returncode == 0, p.stderr


def test_wheel_holds_checks_and_data(installed):
    py = installed / "bin" / "python"
    out = subprocess.run([str(py), "-c", "import prep_conformance, prep_conformance.checks as c, os;"
                          "print(prep_conformance.__file__); print(sorted(os.listdir(os.path.dirname(c.__file__))))"],
                         capture_output=True, text=True, check=True, cwd="/").stdout
    assert str(ROOT) not in out.splitlines()[0]
    assert "test_documents.py" in out


def test_run_from_outside_the_checkout(installed, tmp_path):
    cli = installed / "bin" / "prep-conformance"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    p = subprocess.run([str(cli), "run", "--profile", str(DATA / "docs_ok.yaml"), "--out", str(tmp_path / "o"),
                        "--only", "III.3", "--only", "I.13"], capture_output=True, text=True, cwd=tmp_path,
                       env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert doc["difusores"][0]["requirements"]["III.3"] == "PASS"
    p = subprocess.run([str(cli), "init", str(tmp_path / "perfil.yaml")], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=60)
    assert p.returncode == 0 and (tmp_path / "docs" / "diagrama.pdf").exists(), p.stderr
