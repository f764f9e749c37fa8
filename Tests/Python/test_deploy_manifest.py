"""Deploy/kubernetes.yaml against the Kubernetes API schemas (kubernetes-validate's bundled
OpenAPI schemas, strict: a misspelt field is an error, as `kubectl apply` with server-side field
validation makes it). Tests/ServiceTests checks the container's arguments against our flags."""
import copy

import kubernetes_validate
import pytest
import yaml

from conftest import ROOT

MANIFEST = ROOT / "Deploy" / "kubernetes.yaml"


def resources():
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


# An older API still in use and the newest the pinned validator knows (fixed, not "latest").
@pytest.mark.parametrize("version", ["1.29", "1.37"])
def test_every_resource_is_valid_for_the_kubernetes_api(version):
    kinds = [r["kind"] for r in resources()]
    assert kinds == ["Service", "StatefulSet"], kinds
    for resource in resources():
        kubernetes_validate.validate(resource, version, strict=True)


def test_a_misspelt_field_is_refused():
    # The validator is live: the same StatefulSet with one probe's name misspelt fails.
    [statefulset] = [r for r in resources() if r["kind"] == "StatefulSet"]
    broken = copy.deepcopy(statefulset)
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(broken, "1.29", strict=True)
