"""Say hello. Edit the greeting, save, and call it again: the new version answers.

portway invoke ENV hello.hello --payload '{"name": "Ada"}'
"""

from portway import Service


class Hello(Service):
    # No `name = ...`: the service is called after the file and class, "hello.hello".

    def handle(self) -> None:
        payload = self.request.payload or {}
        name = payload.get("name", "world") if isinstance(payload, dict) else "world"
        self.logger.info("greeting", name=name)
        self.response.payload = {"hello": name}
