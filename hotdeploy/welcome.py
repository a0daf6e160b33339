"""A service that calls another one: the correlation id travels along.

portway invoke ENV demo.welcome --payload '{"name": "Grace"}'
"""

from portway import Service


class Welcome(Service):
    name = "demo.welcome"

    def handle(self) -> None:
        greeting = self.invoke("hello.hello", self.request.payload)
        self.response.payload = {"message": f"Hello, {greeting['hello']}! Welcome aboard.", "cid": self.cid}
