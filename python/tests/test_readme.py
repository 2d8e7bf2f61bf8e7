"""The README's Python quick start runs as written, and its set-up command installs the
package (into a scratch prefix instead of the system's)."""
import glob
import os
import re
import shutil
import subprocess
import sys

from conftest import ROOT

PKG_PARENT = os.path.join(ROOT, "python")


def _section():
    text = open(os.path.join(ROOT, "README.md")).read()
    start = text.index("## Python quick start")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_quick_start_runs_as_written(tmp_path):
    code = re.search(r"```python\n(.*?)```", _section(), re.S).group(1)
    (tmp_path / "quick.py").write_text(code)
    env = dict(os.environ, PYTHONPATH=PKG_PARENT)
    p = subprocess.run([sys.executable, "quick.py"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    m = re.fullmatch(r"recall@10 (\d\.\d{3})\n", p.stdout)
    assert m and float(m.group(1)) > 0.2, p.stdout
    assert (tmp_path / "index" / "index.idx").exists()


def test_setup_command_installs_the_package(tmp_path):
    sh = re.search(r"```sh\n(.*?)```", _section(), re.S).group(1)
    line = [l for l in sh.splitlines() if "pip install" in l][0]
    args = line.split()
    assert args[:4] == ["python3", "-m", "pip", "install"] and args[-1] == "./python"
    src = tmp_path / "python"
    shutil.copytree(PKG_PARENT, src, ignore=shutil.ignore_patterns(
        "tests", "examples", "build", "*.egg-info", "__pycache__"))
    # as written, except into a scratch prefix rather than the system's site-packages
    args = [sys.executable] + args[1:]
    args[args.index("--break-system-packages")] = "--prefix=" + str(tmp_path / "prefix")
    p = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    site = glob.glob(str(tmp_path / "prefix" / "**" / "partifact" / "__init__.py"),
                     recursive=True)
    assert len(site) == 1, site
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(site[0])))
    p = subprocess.run([sys.executable, "-c", "import partifact; print(partifact.__file__, "
                        "partifact.library_version())"], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(site[0])
