"""The deployment files under docker/: structure only (no Docker, no Kubernetes, no network).

The images are not built here (CI has no Docker engine), so these tests pin what the files
must say: each Dockerfile installs binsynth with a pinned torch, FFmpeg and Ray, as a
non-root user, and smoke-tests the CLI; the KubeRay RayJob runs `binsynth render` with the
Ray executor on a head and worker groups that share the output volume; the Ray cluster
launcher config passes Ray's own schema.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
DOCKERFILES = {"cpu": DOCKER / "Dockerfile.cpu", "cuda": DOCKER / "Dockerfile.cuda"}


# --- Dockerfiles ------------------------------------------------------------------------

def instructions(path: Path) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction; continuation lines joined, comments dropped."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in text.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            out.append((keyword.upper(), " ".join(args.split())))
    return out


def args_of(path: Path) -> dict[str, str]:
    """ARG defaults (quotes removed)."""
    found = {}
    for keyword, args in instructions(path):
        if keyword == "ARG" and "=" in args:
            name, _, value = args.partition("=")
            found[name] = value.strip('"')
    return found


def makefile_torch_pin() -> str:
    match = re.search(r"pip install --quiet torch==([0-9.]+)", (ROOT / "Makefile").read_text())
    assert match, "Makefile: no `pip install ... torch==X` line"
    return match.group(1)


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_dockerfile_pins_torch_like_ci(kind):
    path = DOCKERFILES[kind]
    args = args_of(path)
    assert args.get("TORCH_VERSION") == makefile_torch_pin()
    runs = [a for k, a in instructions(path) if k == "RUN"]
    torch_runs = [r for r in runs if 'pip install "torch==${TORCH_VERSION}" --index-url' in r]
    assert len(torch_runs) == 1, "torch must be installed once, pinned, from an explicit index"
    # later installs may not replace it
    assert any(a.startswith("PIP_CONSTRAINT=") for k, a in instructions(path) if k == "ENV")
    assert 'echo "torch==${TORCH_VERSION}" > /opt/constraints.txt' in torch_runs[0]


def test_cpu_image_takes_the_cpu_wheel_index():
    args = args_of(DOCKERFILES["cpu"])
    assert args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert instructions(DOCKERFILES["cpu"])[0] == ("FROM", "python:3.12-slim-bookworm")


def test_cuda_image_base_matches_its_torch_build():
    path = DOCKERFILES["cuda"]
    args = args_of(path)
    base = args["CUDA_BASE"]  # e.g. 12.8.1
    major, minor = base.split(".")[:2]
    assert args["TORCH_CUDA"] == f"cu{major}{minor}"
    froms = [a for k, a in instructions(path) if k == "FROM"]
    assert froms == ["nvidia/cuda:${CUDA_BASE}-base-ubuntu24.04"]
    text = path.read_text()
    assert 'https://download.pytorch.org/whl/${TORCH_CUDA}' in text
    # the build fails if the wheel is not the CUDA build it asked for
    assert "torch.version.cuda" in text


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_dockerfile_installs_system_packages(kind):
    runs = " ".join(a for k, a in instructions(DOCKERFILES[kind]) if k == "RUN")
    apt = re.search(r"apt-get install ([^&]*)", runs)
    assert apt, "no apt-get install"
    packages = set(apt.group(1).split())
    assert {"ffmpeg", "libsndfile1"} <= packages
    assert "wget" in packages  # KubeRay's default probes
    assert "rm -rf /var/lib/apt/lists/*" in runs


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_dockerfile_installs_binsynth_after_its_dependencies(kind):
    steps = instructions(DOCKERFILES[kind])
    copies = [(i, a) for i, (k, a) in enumerate(steps) if k == "COPY"]
    deps = next(i for i, a in copies if a.startswith("pyproject.toml /tmp/binsynth-deps"))
    source = next(i for i, a in copies if a.split()[0] == "binsynth")
    assert deps < source, "dependencies must be installed before the source is copied"
    deps_run = next(a for k, a in steps[deps:source] if k == "RUN" and "pip install -r" in a)
    assert '"${RAY_REQUIREMENT}"' in deps_run
    install = next(a for k, a in steps[source:] if k == "RUN" and "pip install --no-deps /tmp/binsynth-src" in a)
    assert "torch.__version__" in install  # torch still the pinned one


def test_both_images_pin_the_same_ray():
    pins = {kind: args_of(path)["RAY_REQUIREMENT"] for kind, path in DOCKERFILES.items()}
    assert len(set(pins.values())) == 1, pins
    assert pins["cpu"].startswith("ray[default]")


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_dockerfile_runs_as_non_root_and_smoke_tests(kind):
    steps = instructions(DOCKERFILES[kind])
    users = [(i, a) for i, (k, a) in enumerate(steps) if k == "USER"]
    assert users and users[-1][1] not in ("root", "0")
    smoke = [a for k, a in steps[users[-1][0]:] if k == "RUN"]
    assert smoke and "binsynth --help" in smoke[-1]
    assert "binsynth render recipes/demo.yaml" in smoke[-1]
    assert any(k == "RUN" and "binsynth hrtf pull axd-example" in a for k, a in steps)


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_build_context_holds_what_the_dockerfile_copies(kind):
    path = DOCKERFILES[kind]
    ignore = Path(f"{path}.dockerignore").read_text().splitlines()
    assert "*" in ignore  # allow-list
    allowed = {ln[1:] for ln in ignore if ln.startswith("!")}
    for keyword, args in instructions(path):
        if keyword != "COPY":
            continue
        parts = [p for p in args.split() if not p.startswith("--")]
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert source in allowed, f"COPY {source}: excluded by {path.name}.dockerignore"


# --- KubeRay RayJob ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def rayjob():
    return yaml.safe_load((DOCKER / "rayjob.yaml").read_text())


def pod_specs(job):
    cluster = job["spec"]["rayClusterSpec"]
    yield "head", cluster["headGroupSpec"]["template"]["spec"]
    for group in cluster["workerGroupSpecs"]:
        yield group["groupName"], group["template"]["spec"]


def test_rayjob_runs_binsynth_render_on_ray(rayjob):
    assert rayjob["apiVersion"] == "ray.io/v1"
    assert rayjob["kind"] == "RayJob"
    spec = rayjob["spec"]
    entry = spec["entrypoint"]
    assert entry.startswith("binsynth render ")
    assert "--executor ray" in entry and "--ray-address auto" in entry
    assert spec["shutdownAfterJobFinishes"] is True
    assert isinstance(spec["ttlSecondsAfterFinished"], int) and spec["ttlSecondsAfterFinished"] > 0


def test_rayjob_entrypoint_parses_with_the_cli(rayjob):
    """The entrypoint's options exist in `binsynth render` (parsed, not run)."""
    import typer

    from binsynth.cli import app

    argv = shlex.split(rayjob["spec"]["entrypoint"])
    command = typer.main.get_command(app).commands["render"]
    ctx = command.make_context("render", argv[2:])
    assert ctx.params["executor"] == "ray" and ctx.params["ray_address"] == "auto"
    recipe = str(ctx.params["recipe"])
    # the recipe is the copy the images put under /opt/binsynth/recipes
    assert recipe.startswith("/opt/binsynth/recipes/")
    assert (ROOT / "recipes" / Path(recipe).name).is_file()
    for path in DOCKERFILES.values():
        assert "recipes /opt/binsynth/recipes" in path.read_text()


def test_rayjob_groups_use_the_image_with_resources(rayjob):
    cluster = rayjob["spec"]["rayClusterSpec"]
    assert cluster["workerGroupSpecs"], "no worker group"
    for name, pod in pod_specs(rayjob):
        (container,) = pod["containers"]
        assert container["image"] == "binsynth:cpu", name
        resources = container["resources"]
        assert resources["requests"] and resources["limits"], name
        assert pod["securityContext"]["runAsNonRoot"] is True
    for group in [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]:
        # KubeRay's CRD types rayStartParams as map[string]string
        assert all(isinstance(v, str) for v in group["rayStartParams"].values())
    for group in cluster["workerGroupSpecs"]:
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]


def test_rayjob_out_is_on_a_volume_every_pod_mounts(rayjob):
    argv = shlex.split(rayjob["spec"]["entrypoint"])
    out = argv[argv.index("--out") + 1]
    pvc = yaml.safe_load((DOCKER / "pvc.yaml").read_text())
    assert pvc["kind"] == "PersistentVolumeClaim"
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    for name, pod in pod_specs(rayjob):
        claims = {v["name"]: v["persistentVolumeClaim"]["claimName"]
                  for v in pod["volumes"] if "persistentVolumeClaim" in v}
        mounts = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] in claims]
        assert any(out.startswith(m["mountPath"].rstrip("/") + "/") and claims[m["name"]] == pvc["metadata"]["name"]
                   for m in mounts), f"{name}: --out {out} is not on the shared volume"


def test_rayjob_ray_version_matches_the_images(rayjob):
    pin = args_of(DOCKERFILES["cpu"])["RAY_REQUIREMENT"]
    version = rayjob["spec"]["rayClusterSpec"]["rayVersion"]
    assert pin == f"ray[default]=={version}"


def test_rayjob_documents_gpu_group_and_auth():
    text = (DOCKER / "rayjob.yaml").read_text()
    commented = "\n".join(ln for ln in text.splitlines() if ln.lstrip().startswith("#"))
    assert "nvidia.com/gpu: 1" in commented and "image: binsynth:cuda" in commented
    assert "RAY_AUTH_MODE" in commented


# --- Ray cluster launcher -----------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster_config():
    return yaml.safe_load((DOCKER / "ray-cluster.yaml").read_text())


def test_ray_cluster_config_structure(cluster_config):
    assert cluster_config["docker"]["image"].endswith("binsynth:cpu")
    assert cluster_config["head_node_type"] in cluster_config["available_node_types"]
    head_start = " ".join(cluster_config["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in head_start
    assert any("/data" in opt for opt in cluster_config["docker"]["run_options"])


def test_ray_cluster_config_passes_rays_schema(cluster_config):
    jsonschema = pytest.importorskip("jsonschema")
    spec = importlib.util.find_spec("ray")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("ray is not installed")
    schema_path = Path(list(spec.submodule_search_locations)[0]) / "autoscaler" / "ray-schema.json"
    if not schema_path.is_file():
        pytest.skip(f"{schema_path}: not in this Ray")
    jsonschema.validate(cluster_config, json.loads(schema_path.read_text()))


# --- README -------------------------------------------------------------------------------

def test_readme_points_to_the_deploy_docs():
    headings = re.findall(r"^## (.+)$", (ROOT / "README.md").read_text(), flags=re.M)
    assert headings.index("Running at scale") + 1 == headings.index("Benchmark")
    section = (ROOT / "README.md").read_text().split("## Running at scale", 1)[1].split("\n## ", 1)[0]
    assert "docker/README.md" in section
    for command in ("docker build -f docker/Dockerfile.cpu -t binsynth:cpu .", "ray job submit",
                    "kubectl apply", "--ray-address auto"):
        assert command in section
