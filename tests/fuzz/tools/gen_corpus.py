#!/usr/bin/env python3
"""Writes the seed corpora of the protocol_codec and upgrade_path targets
(tests/fuzz/corpus/<target>/). The envelope seeds come from
gen_envelope_seeds.cpp, which uses the engine's own encoder. The output is
committed; rerun this only to change the seeds:

    python3 tests/fuzz/tools/gen_corpus.py
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus")


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def codec():
    t = "protocol_codec"
    shutil.rmtree(os.path.join(CORPUS, t), ignore_errors=True)
    seeds = {
        # Valid messages of every type.
        "join": '{"type":"join_room","room":"general"}',
        "join-id-str": '{"type":"join_room","room":"general","id":"req-1"}',
        "join-id-int": '{"type":"join_room","room":"lobby","id":42}',
        "join-id-big": '{"type":"join_room","room":"lobby","id":123456789012345678901234567890}',
        "join-id-neg": '{"type":"join_room","room":"lobby","id":-7}',
        "leave": '{"type":"leave_room","room":"general","id":"x"}',
        "room-msg-str": '{"type":"room_message","room":"general","content":"hello"}',
        "room-msg-obj": '{"type":"room_message","room":"general","content":{"text":"hi","n":[1,2.5,-3e10,true,false,null]},"id":"m1"}',
        "room-msg-null": '{"type":"room_message","room":"r","content":null}',
        "room-msg-ws": ' \t\r\n{ "type" : "room_message" , "room" : "r" , "content" : [ 1 , { } , [ ] ] , "id" : 1 } \n',
        "direct": '{"type":"direct_message","to":"bob","content":{"text":"psst"}}',
        "direct-id": '{"type":"direct_message","to":"al\u00efce","content":"x","id":"d-9"}',
        "custom": '{"type":"typing","room":"general","state":true}',
        "custom-id": '{"type":"ping","id":5,"payload":{"a":[1,{"b":null}]}}',
        "custom-empty": '{"type":""}',
        "members-order": '{"content":[1],"id":"q","room":"r","type":"room_message"}',
        "duplicate-keys": '{"type":"join_room","room":"a","room":"b","type":"leave_room"}',
        "unicode-room": '{"type":"join_room","room":"caf\u00e9 \u65e5\u672c \U0001F600"}',
        "escaped-room": '{"type":"join_room","room":"a\\u00e9\\ud83d\\ude00\\/\\"\\\\"}',
        "room-128": '{"type":"join_room","room":"' + "r" * 128 + '"}',
        # Error cases.
        "err-empty": "",
        "err-ws-only": "   ",
        "err-not-json": "hello",
        "err-truncated": '{"type":"join_room","room":"gen',
        "err-trailing": '{"type":"join_room","room":"g"} x',
        "err-two-values": '{"type":"join_room","room":"g"}{}',
        "err-array-root": '[{"type":"join_room","room":"g"}]',
        "err-string-root": '"join_room"',
        "err-number-root": "42",
        "err-no-type": '{"room":"g"}',
        "err-type-int": '{"type":1,"room":"g","id":"e1"}',
        "err-type-null": '{"type":null}',
        "err-no-room": '{"type":"join_room","id":"e2"}',
        "err-room-int": '{"type":"join_room","room":5}',
        "err-room-empty": '{"type":"join_room","room":""}',
        "err-room-129": '{"type":"join_room","room":"' + "r" * 129 + '"}',
        "err-room-ctrl": '{"type":"join_room","room":"a\\u0001b"}',
        "err-room-del": '{"type":"join_room","room":"a\x7fb"}',
        "err-room-c1": '{"type":"join_room","room":"a\u0085b"}',
        "err-room-nul": '{"type":"join_room","room":"a\\u0000b"}',
        "err-no-content": '{"type":"room_message","room":"r","id":3}',
        "err-no-to": '{"type":"direct_message","content":1}',
        "err-to-slash": '{"type":"direct_message","to":"a/b","content":1}',
        "err-to-empty": '{"type":"direct_message","to":"","content":1}',
        "err-id-float": '{"type":"join_room","room":"r","id":1.5}',
        "err-id-exp": '{"type":"join_room","room":"r","id":1e3}',
        "err-id-obj": '{"type":"join_room","room":"r","id":{}}',
        "err-id-bool": '{"type":"join_room","room":"r","id":true}',
        "err-bad-escape": '{"type":"join_room","room":"\\x"}',
        "err-bad-unicode-escape": '{"type":"join_room","room":"\\u12G4"}',
        "err-lone-high-surrogate": '{"type":"join_room","room":"\\ud800"}',
        "lone-low-surrogate": '{"type":"x\\udc00","room":"\\udc00","content":"\\udfff"}',
        "err-raw-ctrl-in-string": '{"type":"join_room","room":"a\nb"}',
        "err-leading-zero": '{"type":"room_message","room":"r","content":012}',
        "err-nan": '{"type":"room_message","room":"r","content":NaN}',
        "err-single-quotes": "{'type':'join_room'}",
        "err-comment": '{"type":"join_room",/*x*/"room":"r"}',
        "err-trailing-comma": '{"type":"join_room","room":"r",}',
        # Deep nesting around the limit of 64.
        "deep-63": '{"type":"room_message","room":"r","content":' + "[" * 63 + "]" * 63 + "}",
        "deep-64": '{"type":"room_message","room":"r","content":' + "[" * 64 + "]" * 64 + "}",
        "deep-objects": '{"type":"room_message","room":"r","content":' + '{"a":' * 70 + "0" + "}" * 70 + "}",
        "deep-unclosed": "[" * 200,
        "deep-mixed": '{"type":"x","c":' + '[{"a":' * 40 + "1" + "}]" * 40 + "}",
        # Huge and odd numbers.
        "num-huge-int": '{"type":"room_message","room":"r","content":' + "9" * 400 + "}",
        "num-huge-neg": '{"type":"room_message","room":"r","content":-' + "9" * 400 + ',"id":-' + "1" * 100 + "}",
        "num-huge-exp": '{"type":"room_message","room":"r","content":1e99999999999}',
        "num-tiny": '{"type":"room_message","room":"r","content":-1.5e-99999}',
        "num-long-fraction": '{"type":"room_message","room":"r","content":0.' + "1" * 500 + "}",
        "num-uint64-edge": '{"type":"room_message","room":"r","content":[18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809]}',
        "num-minus-zero": '{"type":"join_room","room":"r","id":-0}',
        # Invalid UTF-8 and encodings.
        b"utf8-invalid-byte": b'{"type":"join_room","room":"a\xffb"}',
        b"utf8-overlong": b'{"type":"join_room","room":"\xc0\xaf"}',
        b"utf8-surrogate": b'{"type":"join_room","room":"\xed\xa0\x80"}',
        b"utf8-too-big": b'{"type":"join_room","room":"\xf4\x90\x80\x80"}',
        b"utf8-truncated": b'{"type":"join_room","room":"\xe2\x82"}',
        b"utf8-outside-string": b'{"type":"join_room","room":"r"}\xff',
        b"utf8-bom": b'\xef\xbb\xbf{"type":"join_room","room":"r"}',
        b"nul-byte": b'{"type":"join_room","room":"r"}\x00',
        # Escapes everywhere.
        "escapes-all": '{"type":"room_message","room":"\\t\\"r","content":"\\b\\f\\n\\r\\t\\/\\\\\\"\\u0000\\u001f\\u00ff\\uffff\\ud83d\\ude00"}',
        "escaped-keys": '{"\\u0074ype":"join_room","r\\u006fom":"r"}',
        "escaped-type": '{"type":"join\\u005froom","room":"r"}',
    }
    for name, data in seeds.items():
        if isinstance(name, bytes):
            name = name.decode()
        write(t, name, data)


def paths():
    t = "upgrade_path"
    shutil.rmtree(os.path.join(CORPUS, t), ignore_errors=True)
    seeds = {
        "ok-ascii": "/ws/alice",
        "ok-unicode": "/ws/caf\u00e9-\u65e5\u672c-\U0001F600",
        "ok-128": "/ws/" + "u" * 128,
        "ok-128-4byte": "/ws/" + "\U0001F600" * 32,
        "ok-punct": "/ws/a.b_c-d@e:f?g#h",
        "bad-129": "/ws/" + "u" * 129,
        "bad-empty": "/ws/",
        "bare-ws": "/ws",
        "bad-slash": "/ws/a/b",
        "bad-trailing-slash": "/ws/alice/",
        "bad-ctrl": "/ws/a\x01b",
        "bad-del": "/ws/a\x7fb",
        "bad-c1": "/ws/a\u0085b",
        "bad-nbsp-ok": "/ws/a\u00a0b",
        b"bad-nul": b"/ws/a\x00b",
        b"bad-overlong": b"/ws/\xc0\xaf",
        b"bad-surrogate": b"/ws/\xed\xa0\x80",
        b"bad-too-big": b"/ws/\xf4\x90\x80\x80",
        b"bad-truncated": b"/ws/ab\xe2\x82",
        b"bad-ff": b"/ws/\xff",
        "notfound-root": "/",
        "notfound-other": "/api/ws/alice",
        "notfound-case": "/WS/alice",
        "notfound-prefix": "/wss/alice",
        "notfound-empty": "",
        "redis-plain": "redis://localhost",
        "redis-port-db": "redis://127.0.0.1:6380/2",
        "redis-password": "redis://s3cret@redis.local:6379",
        "redis-acl": "redis://user:p%40ss%3Aword@host:1/0",
        "redis-ipv6": "redis://[::1]:6379/1",
        "redis-ipv6-noport": "redis://[fe80::1%25eth0]",
        "redis-empty-db": "redis://h/",
        "redis-bad-port": "redis://h:0",
        "redis-bad-port-big": "redis://h:65536",
        "redis-bad-db": "redis://h/1048577",
        "redis-bad-escape": "redis://u:%zz@h",
        "redis-short-escape": "redis://u:%4@h",
        "redis-no-host": "redis://:6379",
        "redis-unterminated-ipv6": "redis://[::1",
        "redis-scheme": "rediss://h",
        "unix-path": "unix:///var/run/redis.sock",
        "unix-db": "unix:///tmp/r.sock?db=3",
        "unix-relative": "unix://tmp/r.sock",
        "unix-bad-db": "unix:///tmp/r.sock?db=x",
    }
    for name, data in seeds.items():
        if isinstance(name, bytes):
            name = name.decode()
        write(t, name, data)


if __name__ == "__main__":
    codec()
    paths()
