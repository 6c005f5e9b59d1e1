"""Python SDK for Semot: an asyncio client that never loses or repeats a message.

    from semot.client import SemotClient

    async with SemotClient("http://127.0.0.1:8080") as c:
        await c.login("alice", "password1")
        c.on_message(lambda m: print(m["from"], m["body"]))
        await c.connect()
        await c.send_text("bob", "hi")
"""

from .client import ClientClosed, SemotAPIError, SemotClient
from .files import FileInfo, TransferFailed, UploadStore

__all__ = ["ClientClosed", "FileInfo", "SemotAPIError", "SemotClient", "TransferFailed", "UploadStore"]
