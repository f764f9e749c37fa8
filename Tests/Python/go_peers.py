"""The Go peers under Tests/Peers, built offline from Debian's Go packages in GOPATH mode."""
import os
import pathlib
import subprocess
import threading

ROOT = pathlib.Path(__file__).resolve().parents[2]
_build_lock = threading.Lock()


def go_peer(folder, binary, env_var):
    """$`env_var` (set by `make python-test`), else Tests/Peers/`folder` built here into
    .build/`folder`/`binary`, as the Makefile does."""
    if os.environ.get(env_var):
        return pathlib.Path(os.environ[env_var])
    out = ROOT / ".build" / folder / binary
    with _build_lock:
        env = dict(os.environ, GOPATH="/usr/share/gocode", GO111MODULE="off", GOFLAGS="",
                   GOCACHE=str(ROOT / ".build" / "gocache"))
        subprocess.run(["go", "build", "-o", str(out), "."], cwd=ROOT / "Tests" / "Peers" / folder, env=env, check=True)
    return out
