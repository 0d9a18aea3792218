"""The Kubernetes manifests (deploy/kubernetes) are valid against the Kubernetes API's schemas (no cluster
here: kubernetes-validate carries the schemas), and they match the code: one worker Deployment and one
KEDA scaler per RQ queue, scaling on that queue's Redis list, every container running a role of the
image's entrypoint, and nothing secret in the ConfigMap."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from app.queue import QUEUES
from tests.conftest import ROOT

HERE = ROOT / "deploy" / "kubernetes"
KUBERNETES = "1.33"  # a version kubernetes-validate has schemas for, and clusters run today


def _documents() -> list[dict]:
    kustomization = yaml.safe_load((HERE / "kustomization.yaml").read_text())
    docs = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((HERE / name).read_text()) if d]
    return docs


DOCS = _documents()


def _kind(kind: str) -> list[dict]:
    return [d for d in DOCS if d["kind"] == kind]


def _containers(doc: dict) -> list[dict]:
    spec = doc["spec"]["template"]["spec"]
    return spec["containers"]


@pytest.mark.parametrize("doc", [d for d in DOCS if d["kind"] != "ScaledObject"],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_every_manifest_is_valid_against_the_kubernetes_schemas(doc):
    kubernetes_validate.validate(doc, KUBERNETES, strict=True)  # raises with the field at fault


def test_one_worker_and_one_queue_scaler_per_queue():
    served = {}
    for deployment in _kind("Deployment"):
        (container,) = _containers(deployment)
        role, *queues = container["args"]
        assert container["image"] == "oneway"  # renamed by kustomization.yaml's images
        assert role in ("web", "worker"), role
        if role == "worker":
            assert len(queues) == 1 and queues[0] in QUEUES, queues
            served[queues[0]] = deployment["metadata"]["name"]
    assert set(served) == set(QUEUES), "every queue needs its worker Deployment"
    scalers = {s["spec"]["scaleTargetRef"]["name"]: s for s in _kind("ScaledObject")}
    for queue, deployment in served.items():
        (trigger,) = scalers[deployment]["spec"]["triggers"]
        assert trigger["type"] == "redis"
        assert trigger["metadata"]["listName"] == f"rq:queue:{queue}"  # RQ's list for the queue
        assert int(trigger["metadata"]["listLength"]) >= 1
    assert set(scalers) == set(served.values())


def test_the_web_app_is_reached_through_the_ingress_only_and_secrets_stay_in_the_secret():
    (config,) = _kind("ConfigMap")
    assert not {"SECRET_KEY", "DATABASE_URL", "S3_SECRET_KEY", "S3_ACCESS_KEY"} & set(config["data"])
    for doc in (*_kind("Deployment"), *_kind("Job")):
        spec = doc["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in spec["containers"]:
            refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
            assert refs == {"oneway-config", "oneway-secrets"}
    (policy,) = _kind("NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "web"
    (ingress,) = _kind("Ingress")
    assert ingress["spec"]["tls"], "cameras need HTTPS"
    assert config["data"]["TRUSTED_PROXIES"] == "1"
