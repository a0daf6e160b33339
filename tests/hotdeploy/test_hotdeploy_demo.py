"""The demo pickup folder at the repository root deploys and every example answers."""

from __future__ import annotations

from pathlib import Path

from hotdeploy_kit import make_env

from portway.runtime import Runtime

DEMO = Path(__file__).resolve().parents[2] / "hotdeploy"


def test_demo_services(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env", dirs=[str(DEMO)])
    rt = Runtime(env)
    rt.boot(watch=False)
    try:
        status = rt.deployer.status()
        assert status["failures"] == []
        helper = {"path": str(DEMO / "pricing.py"), "used_by": [str(DEMO / "invoice.py")]}
        assert status["helpers"] == [helper]
        assert rt.invoke("hello.hello", {"name": "Ada"}).payload == {"hello": "Ada"}
        welcome = rt.invoke("demo.welcome", {"name": "Grace"}).payload
        assert welcome["message"] == "Hello, Grace! Welcome aboard."
        assert "utc" in rt.invoke("demo.clock").payload
        priced = rt.invoke("billing.price-invoice", {"lines": [{"qty": 2, "price": 9.5}]}).payload
        assert priced == {"net": 19.0, "vat": 3.8, "gross": 22.8}
    finally:
        rt.close()
    assert not list(DEMO.rglob("__pycache__")), "deploying must not write into the pickup folder"
