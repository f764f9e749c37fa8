"""Deploy/Dockerfile, without Docker (none runs here): its build stage installs what the Makefile
installs to build, and its runtime stage has every shared library the writer links outside the
Swift toolchain (which --static-swift-stdlib links in), each a package this Debian knows."""
import json
import re
import shlex
import subprocess

from server_process import ROOT, bin_dir

DOCKERFILE = ROOT / "Deploy" / "Dockerfile"
# In debian:bookworm-slim already (apt itself needs them).
BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6"}


def stages():
    """Per `FROM` stage: its name and the packages its `apt-get install` lines name."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["FROM"]:
            found.append({"name": words[3] if len(words) > 3 else "", "packages": set(), "lines": []})
        elif found:
            found[-1]["lines"].append(words)
            if "install" in words and "apt-get" in words:
                after = words[words.index("install") + 1:]
                end = after.index("&&") if "&&" in after else len(after)
                found[-1]["packages"] |= {w for w in after[:end] if not w.startswith("-")}
    return found


def owning_package(library):
    """The Debian package that installed `library` (usrmerge: /lib and /usr/lib are one)."""
    candidates = [library, library.replace("/usr/lib/", "/lib/", 1), library.replace("/lib/", "/usr/lib/", 1)]
    for path in dict.fromkeys(candidates):
        out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":")[0]
    raise AssertionError(f"no package owns {library}")


def test_the_build_stage_installs_what_the_makefile_installs_and_links_the_swift_runtime_in():
    build, runtime = stages()
    assert build["name"] == "build" and runtime["name"] == ""
    makefile = (ROOT / "Makefile").read_text()
    apt = re.search(r"^APT_PACKAGES := (.*)$", makefile, re.M).group(1).split()
    assert build["packages"] == set(apt)
    swift_build = [w for w in build["lines"] if w[:3] == ["RUN", "swift", "build"]]
    assert swift_build and "--static-swift-stdlib" in swift_build[0] and "segment-writer" in swift_build[0]


def test_the_runtime_stage_has_every_library_the_writer_links():
    _, runtime = stages()
    binary = bin_dir() / "segment-writer"
    assert binary.exists(), "run `swift build` first"
    linked = re.findall(r"=> (/\S+)", subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout)
    # The toolchain's libraries (libswiftCore, Foundation, dispatch…) are linked statically in the image.
    swift_lib = "/lib/swift/"
    system = [lib for lib in linked if swift_lib not in lib]
    assert any(swift_lib in lib for lib in linked), "the debug build links the Swift runtime dynamically"
    needed = {owning_package(lib) for lib in system} - BASE_PACKAGES
    assert {"liburing2", "libzstd1", "libdeflate0", "libssl3"} <= needed, needed
    assert needed <= runtime["packages"], f"missing from the runtime stage: {needed - runtime['packages']}"
    # TLS to S3 verifies against the system's certificate authorities.
    assert "ca-certificates" in runtime["packages"]
    for package in runtime["packages"]:
        assert subprocess.run(["apt-cache", "show", package], capture_output=True).returncode == 0, f"no package {package}"


def test_the_image_runs_the_writer_as_the_kubernetes_manifest_expects():
    _, runtime = stages()
    by_keyword = {w[0]: w[1:] for w in runtime["lines"] if w}
    [entrypoint] = re.findall(r"^ENTRYPOINT (.*)$", DOCKERFILE.read_text(), re.M)
    assert json.loads(entrypoint) == ["/usr/local/bin/segment-writer"]  # exec form: SIGTERM reaches the writer
    copied = [w for w in runtime["lines"] if w[:1] == ["COPY"]]
    assert copied and copied[0][-1] == "/usr/local/bin/segment-writer"
    assert by_keyword["USER"] != ["root"] and by_keyword["EXPOSE"] == ["9095", "4040"]
    manifest = (ROOT / "Deploy" / "kubernetes.yaml").read_text()
    # The manifest passes flags only (`args:`), so the image's entry point must be the writer.
    assert "image: swift-segment-writer:latest" in manifest and "command:" not in manifest
    assert "-t swift-segment-writer:latest" in DOCKERFILE.read_text()
