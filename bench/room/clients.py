"""The load generator: many websocket clients in one asyncio loop per worker process.

A worker opens its share of the sockets, reports "ready", waits for "go" (a wall-clock
start time shared by every worker), runs the scheduled actions (a burst of chat
messages, chat at a steady rate, opening a poll, votes), records every chat delivery
and every poll tally it sees, and stops by itself: when every socket has all the
messages it expects and the room has been quiet for a moment, when nothing arrived for
``idle_timeout`` seconds, or at the deadline. Then it closes its sockets and reports.

Chat bodies are ``bench <sender> <seq> <sent_ns>``: receivers find them with one regex
over the frame text (a single event, a coalesced batch, the peer's ``{"message"}`` or
the raw server's bare text alike), so the client stays cheap and needs no JSON parse on
the hot path. Only hub frames that are not chat (replies, errors, poll events) are
parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import orjson

from bench.room.wire import WireClient, connect

BODY_RE = re.compile(r"bench (\d+) (\d+) (\d+)")
NORMAL_CLOSES = {1000, 1001}


@dataclass
class Action:
    at: float  # seconds after "go"
    kind: str  # "burst" | "chat" | "open_poll" | "vote"
    sender: int = 0
    seq: int = 0
    count: int = 0  # burst: messages back to back
    choice: int = 0  # vote: index into the poll's options
    options: int = 4  # open_poll: how many options


@dataclass
class ClientSpec:
    url: str
    headers: list[tuple[str, str]]
    flavor: str  # "raw" | "peer" | "hub"
    measured: bool = True  # a receiver whose deliveries count
    expect: int = 0  # chat messages this socket should receive
    actions: list[Action] = field(default_factory=list)
    name: str = ""


@dataclass
class WorkerConfig:
    clients: list[ClientSpec]
    run_id: str
    connect_concurrency: int = 64
    connect_timeout: float = 120.0
    quiet: float = 0.3  # stop this long after the last frame once everything arrived
    idle_timeout: float = 15.0  # stop this long after the last frame, complete or not
    deadline: float = 120.0  # seconds after "go", whatever happens
    poll_question: str = "Which step comes first?"


def chat_frame(flavor: str, run_id: str, sender: int, seq: int) -> tuple[str, str]:
    """The frame a sender writes, and the reply ref (hub only)."""
    body = f"bench {sender} {seq} {time.time_ns()}"
    if flavor == "raw":
        return body, ""
    if flavor == "peer":
        return orjson.dumps({"message": body}).decode(), ""
    ref = f"c{sender}-{seq}"
    frame = {
        "type": "chat.send",
        "id": ref,
        "data": {"client_id": f"{run_id}-{sender}-{seq}", "body": body},
    }
    return orjson.dumps(frame).decode(), ref


class Worker:
    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.lat_ms = array("d")
        self.first_sent_ns = 0
        self.last_chat_ns = 0
        self.last_frame_ns = 0
        self.frames = 0
        self.errors: list[dict[str, Any]] = []
        self.abnormal_closes: list[int | None] = []
        self.connect_failures: list[str] = []
        self.chat_sent = 0
        self.chat_ok = 0
        self.chat_err = 0
        self.votes_sent = 0
        self.votes_ok = 0
        self.sent_at: dict[str, int] = {}  # action ref -> when it was sent
        self.ack_ms: dict[str, list[float]] = {"chat": [], "vote": []}
        self.votes_err = 0
        self.votes_by_option: dict[int, int] = {}
        self.last_vote_sent_ns = 0
        self.poll_id: int | None = None
        self.poll_options: list[int] = []
        self.poll_opened = asyncio.Event()
        self.poll_reply: dict[str, Any] | None = None
        self.stopping = False
        self.conns: list[Conn] = []


class Conn:
    __slots__ = (
        "closed_code",
        "dups",
        "got",
        "max_seen",
        "out_of_order",
        "pending",
        "ready",
        "seen",
        "spec",
        "tallies",
        "worker",
        "ws",
    )

    def __init__(self, worker: Worker, spec: ClientSpec) -> None:
        self.worker = worker
        self.spec = spec
        self.ws: WireClient | None = None
        self.ready = asyncio.Event()
        self.seen: dict[int, bytearray] = {}
        self.max_seen: dict[int, int] = {}
        self.got = 0
        self.dups = 0
        self.out_of_order = 0
        self.tallies: list[tuple[int, int, tuple[tuple[str, Any], ...]]] = []
        self.pending: dict[str, asyncio.Future[tuple[str, Any]]] = {}
        self.closed_code: int | None = None

    # --- receiving -------------------------------------------------------------------
    def on_text(self, text: str) -> None:
        """A text message from the server (called as the wire client parses it)."""
        now = time.time_ns()
        w = self.worker
        w.last_frame_ns = now
        w.frames += 1
        if "bench " in text:
            self.on_chat_text(text, now)
        if self.spec.flavor == "hub" and not (
            text.startswith('{"type":"chat.message"')
            or (
                text.startswith('{"type":"batch"')
                and '"poll.' not in text
                and '"error"' not in text
                and '"reply"' not in text
                and '"room.' not in text
            )
        ):
            self.on_control(orjson.loads(text), now)

    def on_closed(self, code: int | None) -> None:
        w = self.worker
        self.closed_code = code if code is not None else 1006
        expected = w.stopping and (code in NORMAL_CLOSES or code is None)
        if not expected:
            w.abnormal_closes.append(code)
        for fut in self.pending.values():
            if not fut.done():
                fut.set_result(("closed", None))
        self.ready.set()

    def on_chat_text(self, text: str, now: int) -> None:
        w = self.worker
        measured = self.spec.measured
        for m in BODY_RE.finditer(text):
            sender, seq, sent = int(m[1]), int(m[2]), int(m[3])
            bits = self.seen.get(sender)
            if bits is None:
                bits = self.seen[sender] = bytearray(64)
                self.max_seen[sender] = -1
            if seq >= len(bits):
                bits.extend(bytes(max(seq + 1 - len(bits), len(bits))))
            if bits[seq]:
                self.dups += 1
                continue
            bits[seq] = 1
            if seq < self.max_seen[sender]:
                self.out_of_order += 1
            else:
                self.max_seen[sender] = seq
            if not measured:
                continue
            self.got += 1
            w.lat_ms.append((now - sent) / 1e6)
            if not w.first_sent_ns or sent < w.first_sent_ns:
                w.first_sent_ns = sent
            w.last_chat_ns = now

    def on_control(self, msg: Any, now: int) -> None:
        if not isinstance(msg, dict):
            return
        type_ = msg.get("type")
        data = msg.get("data")
        if type_ == "batch":
            events = msg.get("events")
            if events is None and isinstance(data, dict):
                events = data.get("events")
            for event in events or []:
                self.on_control(event, now)
            return
        w = self.worker
        ref = msg.get("ref")
        if type_ == "reply" or type_ == "error":
            ok = type_ == "reply"
            if not ok:
                w.errors.append({"client": self.spec.name, "ref": ref, "data": data})
            if isinstance(ref, str):
                sent = w.sent_at.pop(ref, None)
                if sent is not None:
                    w.ack_ms["chat" if ref.startswith("c") else "vote"].append((now - sent) / 1e6)
                if ref.startswith("c"):
                    if ok:
                        w.chat_ok += 1
                    else:
                        w.chat_err += 1
                elif ref.startswith("v"):
                    if ok:
                        w.votes_ok += 1
                        option = int(ref.rsplit("-", 1)[1])
                        w.votes_by_option[option] = w.votes_by_option.get(option, 0) + 1
                    else:
                        w.votes_err += 1
                fut = self.pending.pop(ref, None)
                if fut is not None and not fut.done():
                    fut.set_result((type_, data))
            return
        if type_ == "room.snapshot":
            self.ready.set()
            return
        if type_ in ("poll.opened", "poll.tally", "poll.closed", "poll.revealed"):
            if not isinstance(data, dict):
                return
            poll = data.get("poll") if isinstance(data.get("poll"), dict) else data
            if type_ == "poll.opened" and not w.poll_opened.is_set():
                w.poll_id = poll.get("id")
                w.poll_options = [o["id"] for o in poll.get("options", [])]
                w.poll_opened.set()
            tally = data.get("tally") if type_ != "poll.tally" else data
            if isinstance(tally, dict) and "total_votes" in tally:
                counts = tally.get("counts") or {}
                key = tuple(sorted((str(k), v) for k, v in counts.items()))
                last = self.tallies[-1] if self.tallies else None
                if last is None or last[1] != tally["total_votes"] or last[2] != key:
                    self.tallies.append((now, int(tally["total_votes"]), key))
            return
        if type_ in ("room.kicked", "room.reload"):
            w.errors.append({"client": self.spec.name, "type": type_, "data": data})

    # --- sending ---------------------------------------------------------------------
    async def request(self, type_: str, ref: str, data: dict[str, Any]) -> tuple[str, Any]:
        assert self.ws is not None
        fut: asyncio.Future[tuple[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[ref] = fut
        self.ws.send(orjson.dumps({"type": type_, "id": ref, "data": data}).decode())
        return await asyncio.wait_for(fut, 30)

    async def run_action(self, action: Action, t0: float) -> None:
        delay = t0 + action.at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        w = self.worker
        ws = self.ws
        if ws is None or self.closed_code is not None or w.stopping:
            return
        flavor = self.spec.flavor
        run_id = w.config.run_id
        if action.kind == "burst":
            for seq in range(action.count):
                text, ref = chat_frame(flavor, run_id, action.sender, seq)
                if ref:
                    w.sent_at[ref] = time.time_ns()
                ws.send(text)
                w.chat_sent += 1
        elif action.kind == "chat":
            text, ref = chat_frame(flavor, run_id, action.sender, action.seq)
            if ref:
                w.sent_at[ref] = time.time_ns()
            ws.send(text)
            w.chat_sent += 1
        elif action.kind == "open_poll":
            kind, data = await self.request(
                "poll.create",
                "p-create",
                {
                    "client_id": f"{run_id}-poll",
                    "question": w.config.poll_question,
                    "kind": "single",
                    "options": [f"Option {i + 1}" for i in range(action.options)],
                    "anonymous": True,
                    "results": "live",
                },
            )
            if kind != "reply":
                w.errors.append({"client": self.spec.name, "action": "poll.create", "data": data})
                return
            poll = data.get("poll") if isinstance(data.get("poll"), dict) else data
            w.poll_reply = poll
            kind, data = await self.request("poll.open", "p-open", {"poll_id": poll["id"]})
            if kind != "reply":
                w.errors.append({"client": self.spec.name, "action": "poll.open", "data": data})
        elif action.kind == "vote":
            try:
                await asyncio.wait_for(w.poll_opened.wait(), 30)
            except TimeoutError:
                w.errors.append({"client": self.spec.name, "action": "vote", "data": "no poll"})
                return
            option = w.poll_options[action.choice % len(w.poll_options)]
            ref = f"v{self.spec.name}-{option}"
            frame = {
                "type": "poll.vote",
                "id": ref,
                "data": {"poll_id": w.poll_id, "choices": [option]},
            }
            w.last_vote_sent_ns = max(w.last_vote_sent_ns, time.time_ns())
            w.sent_at[ref] = w.last_vote_sent_ns
            ws.send(orjson.dumps(frame).decode())
            w.votes_sent += 1

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "measured": self.spec.measured,
            "expect": self.spec.expect,
            "got": self.got,
            "dups": self.dups,
            "out_of_order": self.out_of_order,
            "tallies": self.tallies,
        }


async def _open(conn: Conn, sem: asyncio.Semaphore, limit: float) -> None:
    spec = conn.spec
    async with sem:
        try:
            async with asyncio.timeout(limit):
                conn.ws = await connect(spec.url, spec.headers, conn.on_text)
                conn.ws.on_closed = conn.on_closed
                if spec.flavor != "hub":
                    conn.ready.set()
                await conn.ready.wait()
                if conn.closed_code is not None:
                    raise ConnectionError(f"closed with {conn.closed_code} before ready")
        except Exception as exc:  # counted and reported
            conn.worker.connect_failures.append(f"{spec.name}: {type(exc).__name__}: {exc}"[:300])


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_worker(config: WorkerConfig, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    w = Worker(config)
    sem = asyncio.Semaphore(config.connect_concurrency)
    w.conns = [Conn(w, spec) for spec in config.clients]
    await asyncio.gather(*(_open(c, sem, config.connect_timeout) for c in w.conns))
    pipe.send(("ready", {"connected": sum(c.ws is not None for c in w.conns)}))
    command = await loop.run_in_executor(None, pipe.recv)
    if command[0] != "go":
        await _close_all(w)
        pipe.send(("result", _result(w, 0.0)))
        return
    t0 = float(command[1])
    cpu0 = _cpu()
    tasks = [
        asyncio.create_task(c.run_action(a, t0))
        for c in w.conns
        if c.ws is not None
        for a in c.spec.actions
    ]
    last_action_at = t0 + max((a.at for c in w.conns for a in c.spec.actions), default=0.0)
    measured = [c for c in w.conns if c.spec.measured and c.ws is not None]
    while True:
        await asyncio.sleep(0.05)
        now = time.time()
        actions_done = all(t.done() for t in tasks) and now >= last_action_at
        last_frame = max(w.last_frame_ns / 1e9, t0)
        complete = all(c.got >= c.spec.expect for c in measured)
        if now > t0 + config.deadline:
            break
        if actions_done and complete and now - last_frame > config.quiet:
            break
        if actions_done and now - last_frame > config.idle_timeout:
            break
    cpu = _cpu() - cpu0
    for t in tasks:
        t.cancel()
    await _close_all(w)
    pipe.send(("result", _result(w, cpu)))


async def _close_all(w: Worker) -> None:
    w.stopping = True

    async def close(c: Conn) -> None:
        if c.ws is not None:
            with contextlib.suppress(Exception):  # closing at the end: nothing to report
                await asyncio.wait_for(c.ws.close(), 10)

    sem = asyncio.Semaphore(200)

    async def bounded(c: Conn) -> None:
        async with sem:
            await close(c)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(bounded(c) for c in w.conns)), 60)


def _result(w: Worker, cpu: float) -> dict[str, Any]:
    return {
        "lat_ms": w.lat_ms.tobytes(),
        "first_sent_ns": w.first_sent_ns,
        "last_chat_ns": w.last_chat_ns,
        "frames": w.frames,
        "errors": w.errors,
        "abnormal_closes": w.abnormal_closes,
        "connect_failures": w.connect_failures,
        "chat_sent": w.chat_sent,
        "chat_ok": w.chat_ok,
        "chat_err": w.chat_err,
        "votes_sent": w.votes_sent,
        "votes_ok": w.votes_ok,
        "ack_ms": w.ack_ms,
        "votes_err": w.votes_err,
        "votes_by_option": w.votes_by_option,
        "last_vote_sent_ns": w.last_vote_sent_ns,
        "poll_id": w.poll_id,
        "poll_options": w.poll_options,
        "client_cpu_s": round(cpu, 3),
        "clients": [c.summary() for c in w.conns],
    }


def worker_main(config: WorkerConfig, pipe: Connection) -> None:
    """Entry point of a worker process."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    try:
        asyncio.run(run_worker(config, pipe))
    except Exception as exc:  # reported to the orchestrator
        pipe.send(("crashed", f"{type(exc).__name__}: {exc}"))
    finally:
        pipe.close()
