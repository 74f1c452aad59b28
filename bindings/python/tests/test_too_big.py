"""A send larger than max_send_queue_bytes is refused with TooBigError
(RTC_ETOOBIG) before anything is queued: no recipient is closed."""

from __future__ import annotations

import pytest
import rtcore

from conftest import async_test, recv_json
from support import Recorder, ws


@async_test()
async def test_send_bigger_than_the_send_queue_raises_too_big() -> None:
    app = rtcore.App(max_send_queue_bytes=4096)
    opened = Recorder()
    app.on_open(opened)
    async with app:
        async with ws(app, "/ws/alice") as a, ws(app, "/ws/bob") as b:
            conns = {c.user_id: c for c in await opened.wait_for(2)}
            await app.join(conns["alice"], "r")
            await app.join(conns["bob"], "r")
            big = "x" * 5000
            for call in (
                lambda: app.broadcast_message("r", big),
                lambda: app.broadcast("r", {"type": "t", "x": big}),
                lambda: app.send_message_to_user("alice", big),
                lambda: app.send_message_to_connection(conns["bob"], big),
                lambda: app.send_error(conns["bob"], "too_big", big),
            ):
                with pytest.raises(rtcore.TooBigError) as info:
                    await call()
                assert isinstance(info.value, ValueError)
                assert info.value.name == "RTC_ETOOBIG"
            # Nobody was closed: both members get the next broadcast.
            await app.broadcast_message("r", 1)
            for client in (a, b):
                assert (await recv_json(client))["content"] == 1
            assert app.stats().slow_consumer_closes == 0
