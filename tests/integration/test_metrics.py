"""GET /metrics (docs/protocol.md section 10) and GET /stats, derived from
the engine's one table of counters: parsed with a real Prometheus parser
(prometheus_client), counters move as traffic flows, labels never carry user
ids or room names."""

import asyncio
import urllib.request

import pytest

from support import Clients, join, recv_json, run, send_json, stats

prom = pytest.importorskip("prometheus_client.parser")


def scrape(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=3) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    families = {f.name: f for f in prom.text_string_to_metric_families(text)}
    return text, families


def value(families, family, **labels):
    for s in families[family].samples:
        if s.labels == labels and s.name in (family, family + "_total"):
            return s.value
    raise KeyError((family, labels))


def test_metrics_parse_and_every_stats_counter_is_there(start_server):
    server = start_server("--expose-stats")
    text, families = scrape(server)
    s = stats(server)
    # One table for both: every /stats counter is exactly one unlabelled
    # metric family, with the same value (nothing happens in between).
    plain = [f for f in families.values() if f.type in ("counter", "gauge")
             and len(f.samples) >= 1 and not f.samples[0].labels]
    assert len(plain) == len(s), (sorted(f.name for f in plain), sorted(s))
    assert sorted(f.samples[0].value for f in plain) == sorted(float(v) for v in s.values())
    for f in families.values():
        assert f.name.startswith("rtcore_"), f.name
        if f.type == "counter":
            assert all(x.name.endswith(("_total", "_created")) for x in f.samples), f.name
    assert value(families, "rtcore_backplane_connected") == 1
    assert families["rtcore_backplane_round_trip_seconds"].type == "histogram"
    assert families["rtcore_delivery_age_seconds"].type == "histogram"
    assert "# TYPE rtcore_connections gauge" in text
    drops = {x.labels["reason"] for x in families["rtcore_frame_drops"].samples if x.name.endswith("_total")}
    assert drops == {"closing", "too_big", "slow_consumer", "unsent_at_close", "no_connection"}


def test_counters_move_with_traffic_and_labels_carry_no_user_data(start_server):
    server = start_server("--expose-stats")

    async def main():
        async with Clients(server) as c:
            secret_user, secret_room = "alice-secret-user", "room-secret-name"
            a = await c.open(secret_user)
            b = await c.open("bob")
            await join(a, secret_room)
            await join(b, secret_room)
            for i in range(5):
                await send_json(a, {"type": "room_message", "room": secret_room, "content": i})
            for _ in range(5):
                await recv_json(a)
                await recv_json(b)
            await send_json(a, {"type": "direct_message", "to": "bob", "content": "x"})
            await recv_json(b)
            await send_json(a, {"type": "nope", "id": 1})  # unknown_type error
            await recv_json(a)
            await a.send("not json")
            await recv_json(a)
            _, before_close = scrape(server)
            await b.close()
            await asyncio.sleep(0.3)
            text, f = scrape(server)
            assert secret_user not in text and secret_room not in text
            assert value(f, "rtcore_connections") == 1
            assert value(f, "rtcore_client_messages", type="join_room") == 2
            assert value(f, "rtcore_client_messages", type="room_message") == 5
            assert value(f, "rtcore_client_messages", type="direct_message") == 1
            assert value(f, "rtcore_client_messages", type="custom") == 1
            assert value(f, "rtcore_client_messages", type="invalid") == 1
            assert value(f, "rtcore_messages_received") == 10
            # 2 acks of the joins, 10 room frames, 1 direct, 2 errors.
            assert value(f, "rtcore_frames_queued", kind="message") == 10
            assert value(f, "rtcore_frames_queued", kind="direct_message") == 1
            assert value(f, "rtcore_frames_queued", kind="ack") == 2
            assert value(f, "rtcore_frames_queued", kind="error") == 2
            assert value(f, "rtcore_errors_sent") == 2
            assert value(f, "rtcore_sent_bytes") > 0
            assert value(f, "rtcore_closes", code="client") == value(before_close, "rtcore_closes", code="client") + 1
            assert value(f, "rtcore_connections_accepted") == 2
            by_reason = sum(x.value for x in f["rtcore_frame_drops"].samples if x.name.endswith("_total"))
            assert by_reason == value(f, "rtcore_dropped_frames")

    run(main())


def test_delivery_age_and_backplane_counters_across_two_nodes(start_node):
    a = start_node("ma", "--expose-stats")
    b = start_node("mb", "--expose-stats")

    async def main():
        async with Clients(a) as ca, Clients(b) as cb:
            x = await ca.open("x")
            y = await cb.open("y")
            await join(x, "r")
            await join(y, "r")
            for i in range(20):
                await send_json(x, {"type": "room_message", "room": "r", "content": i})
            for _ in range(20):
                await recv_json(y)
            _, fb = scrape(b)
            hist = {s.labels.get("le"): s.value for s in fb["rtcore_delivery_age_seconds"].samples
                    if s.name.endswith("_bucket")}
            count = [s.value for s in fb["rtcore_delivery_age_seconds"].samples if s.name.endswith("_count")][0]
            assert count == 20 and hist["+Inf"] == 20
            assert value(fb, "rtcore_backplane_received") == 20
            _, fa = scrape(a)
            assert value(fa, "rtcore_backplane_published") >= 20
            assert value(fa, "rtcore_info", node="ma", backplane="redis") == 1

    run(main())
