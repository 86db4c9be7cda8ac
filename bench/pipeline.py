"""Intake, routing latency and worker cost, each beside its ceiling on the same stack.

1. Intake: saturation throughput of the real inquiry POST (CSRF cookie and token, every
   field) under wrk, beside a minimal CSRF-protected one-row form of the same app; then
   p50/p99 of the inquiry POST at half its saturation rate. Target `intake.ratio` >= 0.6.
2. Routing latency: POST to the last email accepted by the sink, at a steady 20/s.
   Target p95 under 1 s.
3. Worker cost: leads fully processed per second by one worker process, beside the
   ceiling from its parts (no-op task round trips and SMTP sends, as many as a lead needs).
   Target at least 0.5.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import re
import smtplib
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

import redis
from flask_migrate import upgrade
from sqlalchemy import Select, delete, func, select, update

from app import create_app
from app.demo import load_demo_clinics
from app.extensions import db
from app.models import (
    Clinic,
    EmailStatus,
    Lead,
    Offering,
    OutboundEmail,
    OutboxMessage,
    Procedure,
)
from app.services.clinics.catalog import load_catalog
from bench.ceiling import bench_rows
from bench.common import (
    FULL,
    REDIS_URL,
    RUNS,
    percentile,
    save,
    scratch_database,
    settings,
    spread_of,
    table,
    wait_for_quiet,
)
from bench.stack import Sink, Stack

WRK_SECONDS = 15 if FULL else 8
LATENCY_SECONDS = 60  # the steady load: 20 inquiries/s for a minute
WORKER_LEADS = 300 if FULL else 100
FIELDS = {
    "full_name": "Bench Patient",
    "country": "KZ",
    "language": "ru",
    "procedure": "autologous-msc-injection",
    "message": "A benchmark inquiry about a painful knee, long enough to be accepted.",
    "budget_usd": "15000",
    "travel_from": "2027-03-01",
    "travel_to": "2027-03-20",
    "needs_interpreter": "y",
    "consent": "y",
}


class Browser:
    """What a browser holds after opening a form: the session cookie and the hidden fields."""

    def __init__(self, base: str, page: str) -> None:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        html = opener.open(base + page).read().decode()
        self.hidden = dict(re.findall(r'name="([a-z_]+)" type="hidden" value="([^"]*)"', html))
        self.hidden.update(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', html))
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in jar)

    def body(self, *, without: tuple[str, ...] = (), **fields: str) -> str:
        hidden = {name: value for name, value in self.hidden.items() if name not in without}
        return urllib.parse.urlencode({**hidden, **fields})


def phone(n: int) -> str:
    """A valid, distinct Kazakh mobile number, so no lead is a duplicate of another (wrk's
    random numbers use another operator's prefix, +7 777)."""
    return f"+7701{n % 10_000_000:07d}"


def wrk(
    base: str, path: str, browser: Browser, fields: dict[str, str], unique: bool
) -> tuple[float, int]:
    """Requests per second at saturation and the requests counted; every response must be a
    success or a redirect. With `unique`, each request has its own submission id (not the
    form's: a form sent twice is answered with the lead it made the first time), email and
    phone."""
    fixed = browser.body(without=("submission_id",) if unique else (), **fields)
    script = f"""
local n = 0
init = function(args) math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16)) end
request = function()
  n = n + 1
  local body = "{fixed}"
  if {"true" if unique else "false"} then
    local id = tostring(math.random(1, 1000000000)) .. "x" .. n
    body = body .. "&submission_id=" .. id .. "&email=p" .. id .. "%40example.com"
      .. "&phone=%2B7777" .. string.format("%07d", math.random(0, 9999999))
  end
  return wrk.format("POST", "{path}", {{
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "{browser.cookie}",
  }}, body)
end
"""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{WRK_SECONDS}s", "-s", lua.name, base + path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(lua.name).unlink()
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"wrk saw failed requests:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rate, int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]


def storing(app: object, rows: Select[tuple[int]], load: Callable[[], tuple[float, int]]) -> float:
    """The load's rate, once it is clear that every request it counted stored its row (up to
    wrk's 8 connections' requests still in flight when it stopped counting): a request
    answered without storing anything would be measured otherwise."""

    def count() -> int:
        with app.app_context():  # type: ignore[attr-defined]
            stored = db.session.scalar(rows)
            db.session.remove()
        return int(stored or 0)

    def settled() -> int:
        """The count once the web workers have finished what wrk left them: wrk stops
        counting with a request in flight on each connection, and the server still stores
        it. Counted at once, those rows fall into the next run's window (bench/README.md:
        1,489 rows for 1,479 requests)."""
        last, now = -1, count()
        while now != last:
            time.sleep(0.5)
            last, now = now, count()
        return now

    before = settled()
    rate, requests = load()
    stored = settled() - before
    if not requests <= stored <= requests + 8:
        raise RuntimeError(f"{requests} requests stored {stored} rows")
    return rate


def paced(
    base: str, path: str, cookie: str, bodies: Callable[[int], str], rate: float, seconds: float
) -> tuple[list[float], list[float]]:
    """An open-loop load at `rate` per second: each request is timed from when it was due,
    so a slow server cannot slow the load down. Returns (due times, latencies in ms)."""
    host, port = base.removeprefix("http://").split(":")
    local = threading.local()
    count = int(rate * seconds)
    start = time.time() + 0.5
    due = [start + n / rate for n in range(count)]
    latencies = [0.0] * count

    def send(n: int) -> None:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(host, int(port), timeout=30)
        wait = due[n] - time.time()
        if wait > 0:
            time.sleep(wait)
        local.connection.request(
            "POST",
            path,
            body=bodies(n),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        response = local.connection.getresponse()
        response.read()
        if response.status >= 400:
            raise RuntimeError(f"POST {path}: {response.status}")
        latencies[n] = (time.time() - due[n]) * 1000

    with ThreadPoolExecutor(max_workers=16) as pool:
        for future in [pool.submit(send, n) for n in range(count)]:
            future.result()
    return due, latencies


def wait_for_drain(app: object, timeout: float = 900) -> None:
    """Until every lead is routed and every email sent: a measurement starts on a quiet stack."""
    deadline = time.monotonic() + timeout
    with app.app_context():  # type: ignore[attr-defined]
        while time.monotonic() < deadline:
            waiting = db.session.scalar(
                select(func.count(OutboundEmail.id)).where(OutboundEmail.status != EmailStatus.SENT)
            ) + db.session.scalar(select(func.count(Lead.id)).where(Lead.processed_at.is_(None)))
            db.session.rollback()
            if not waiting:
                return
            time.sleep(0.5)
    raise RuntimeError("the stack did not drain its backlog in time")


def intake(stack: Stack, app: object) -> dict[str, float]:
    """The relay pauses while the web workers are measured, at saturation and at half of it
    (the outbox keeps the work), so the request is measured, not the routing it leaves for
    later: on two cores a busy worker would take the web's CPU. Those leads are discarded
    afterwards; routing latency (phase 2) measures everything running together."""
    stack.stop("relay")
    form = Browser(stack.base, "/inquire")
    ceiling_form = Browser(stack.base, "/bench/form")
    # Each run measures the inquiry and the ceiling back to back, and the ratio is taken
    # per run: this machine has slow phases lasting minutes, and the inquiry's runs all
    # falling in one and the ceiling's in another once made the ratio swing 0.32-0.53.
    pairs = []
    for _ in range(RUNS):
        wait_for_quiet()
        pairs.append(
            (
                storing(
                    app,
                    select(func.count(Lead.id)),
                    lambda: wrk(stack.base, "/inquire", form, FIELDS, unique=True),
                ),
                storing(
                    app,
                    select(func.count()).select_from(bench_rows),
                    lambda: wrk(
                        stack.base, "/bench/form", ceiling_form, {"note": "x"}, unique=False
                    ),
                ),
            )
        )
    inquiry = spread_of([rate for rate, _ in pairs])
    ceiling = spread_of([rate for _, rate in pairs])
    ratios = spread_of([rate / ceiling_rate for rate, ceiling_rate in pairs])
    half = inquiry["median"] / 2
    wait_for_quiet()
    _, latencies = paced(
        stack.base,
        "/inquire",
        form.cookie,
        lambda n: form.body(
            **FIELDS, submission_id=f"half-{n}", email=f"half{n}@example.com", phone=phone(n)
        ),
        half,
        WRK_SECONDS,
    )
    _discard_unrouted(app)
    stack.start_relay()
    return {
        "intake.per_second": round(inquiry["median"], 1),
        "intake.per_second_spread": round(inquiry["spread"], 1),
        "intake.ceiling_per_second": round(ceiling["median"], 1),
        "intake.ceiling_per_second_spread": round(ceiling["spread"], 1),
        "intake.ratio": round(ratios["median"], 2),
        "intake.ratio_spread": round(ratios["spread"], 2),
        "intake.ratio_target": 0.6,
        "intake.half_rate_per_second": round(half, 1),
        "intake.half_rate_p50_ms": round(statistics.median(latencies), 1),
        "intake.half_rate_p99_ms": round(percentile(latencies, 0.99), 1),
    }


def _discard_unrouted(app: object) -> None:
    """The thousands of inquiries intake stored wait unpublished (the relay was paused): they
    are deleted with their tasks rather than routed, which would keep the worker busy for
    minutes before the next phase and measure nothing; later phases send their own."""
    with app.app_context():  # type: ignore[attr-defined]
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.published_at.is_(None)))
        db.session.execute(delete(Lead).where(Lead.processed_at.is_(None)))
        db.session.commit()
        db.session.remove()


def emails_per_lead(app: object) -> int:
    """The confirmation plus one notice per clinic that offers the bench procedure."""
    with app.app_context():  # type: ignore[attr-defined]
        offering = db.session.scalar(
            select(func.count(Offering.id))
            .join(Procedure, Procedure.id == Offering.procedure_id)
            .where(Procedure.slug == FIELDS["procedure"])
        )
        db.session.remove()
    return 1 + min(offering, 3)


def routing_latency(stack: Stack, sink: Sink, app: object, per_lead: int) -> dict[str, float]:
    """`RUNS` runs, each on a drained stack and a quiet machine; the median of each figure."""
    runs = []
    for run in range(RUNS):
        wait_for_drain(app)
        wait_for_quiet()
        runs.append(_latency_run(stack, sink, per_lead, run))
    p95s = [r["p95"] for r in runs]
    return {
        "routing_latency.leads": sum(r["leads"] for r in runs),
        "routing_latency.runs": len(runs),
        "routing_latency.rate_per_second": 20,
        "routing_latency.p50_ms": round(statistics.median(r["p50"] for r in runs), 1),
        "routing_latency.p95_ms": round(statistics.median(p95s), 1),
        "routing_latency.p95_spread_ms": round(max(p95s) - min(p95s), 1),
        "routing_latency.p99_ms": round(statistics.median(r["p99"] for r in runs), 1),
        "routing_latency.target_p95_ms": 1000,
    }


def _latency_run(stack: Stack, sink: Sink, per_lead: int, run: int) -> dict[str, float]:
    form = Browser(stack.base, "/inquire")
    before = len(sink.snapshot())
    emails = [f"latency{run}-{n}@example.com" for n in range(int(20 * LATENCY_SECONDS))]
    due, _ = paced(
        stack.base,
        "/inquire",
        form.cookie,
        lambda n: form.body(
            **FIELDS,
            submission_id=f"lat-{run}-{n}",
            email=emails[n],
            phone=phone(5_000_000 + run * 100_000 + n),
        ),
        20,
        LATENCY_SECONDS,
    )
    sent_at = dict(zip(emails, due, strict=True))
    deadline = time.monotonic() + 120
    references: dict[str, str] = {}
    while time.monotonic() < deadline:
        arrivals = sink.snapshot()[before:]
        references = {
            a.recipient: ref.group(0)
            for a in arrivals
            if (ref := re.search(r"CR-[A-Z0-9]{4}-[A-Z0-9]{4}", a.subject))
            and a.recipient in sent_at
        }
        per_reference: dict[str, int] = {}
        for a in arrivals:
            if ref := re.search(r"CR-[A-Z0-9]{4}-[A-Z0-9]{4}", a.subject):
                per_reference[ref.group(0)] = per_reference.get(ref.group(0), 0) + 1
        if len(references) == len(emails) and all(
            per_reference.get(ref, 0) >= per_lead for ref in references.values()
        ):
            break
        time.sleep(0.5)
    last: dict[str, float] = {}
    for a in sink.snapshot()[before:]:
        if ref := re.search(r"CR-[A-Z0-9]{4}-[A-Z0-9]{4}", a.subject):
            last[ref.group(0)] = max(last.get(ref.group(0), 0.0), a.at)
    latencies = [(last[references[e]] - sent_at[e]) * 1000 for e in emails if e in references]
    return {
        "leads": len(latencies),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
    }


def worker_cost(stack: Stack, sink: Sink, app: object, per_lead: int) -> dict[str, float]:
    """`RUNS` runs, each on a drained stack and a quiet machine, each beside its own ceiling;
    the median ratio."""
    runs = []
    for run in range(RUNS):
        wait_for_drain(app)
        wait_for_quiet()
        runs.append(_worker_run(stack, sink, app, per_lead, run))
    ratios = [r["ratio"] for r in runs]
    middle = sorted(runs, key=lambda r: r["ratio"])[len(runs) // 2]
    return {
        "worker.leads": WORKER_LEADS,
        "worker.runs": len(runs),
        "worker.leads_per_second": round(middle["leads_per_second"], 2),
        "worker.noop_task_ms": round(middle["noop_seconds"] * 1000, 2),
        "worker.smtp_send_ms": round(middle["smtp_seconds"] * 1000, 2),
        "worker.ceiling_leads_per_second": round(middle["ceiling"], 2),
        "worker.ratio": round(statistics.median(ratios), 2),
        "worker.ratio_spread": round(max(ratios) - min(ratios), 2),
        "worker.ratio_target": 0.5,
    }


def _worker_run(stack: Stack, sink: Sink, app: object, per_lead: int, run: int) -> dict[str, float]:
    """Leads waiting in the broker, then one worker process (concurrency 1) clears them.

    The clock runs from the moment the worker says it is ready to the last email the
    mail server accepted, so neither process start-up is counted; the relay runs ahead,
    publishing each email task as routing commits it.
    """
    stack.stop("worker")
    form = Browser(stack.base, "/inquire")
    paced(
        stack.base,
        "/inquire",
        form.cookie,
        lambda n: form.body(
            **FIELDS,
            submission_id=f"cost-{run}-{n}",
            email=f"cost{run}-{n}@example.com",
            phone=phone(8_000_000 + run * 100_000 + n),
        ),
        50,
        WORKER_LEADS / 50,
    )
    with app.app_context():  # type: ignore[attr-defined]
        while db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.published_at.is_(None))
        ):
            db.session.rollback()
            time.sleep(0.1)
        db.session.rollback()
        started = stack.start_worker(concurrency=1)
        total_emails = WORKER_LEADS * per_lead
        cost_emails = (
            select(OutboundEmail.sent_at)
            .join(Lead, Lead.id == OutboundEmail.lead_id)
            .where(OutboundEmail.status == EmailStatus.SENT, Lead.email.like(f"cost{run}-%"))
            .subquery()
        )
        deadline = time.monotonic() + 600
        while True:
            sent, last = db.session.execute(
                select(func.count(), func.max(cost_emails.c.sent_at))
            ).one()
            db.session.rollback()
            if sent >= total_emails:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("worker cost: leads not done in 10 minutes")
            time.sleep(0.2)
    leads_per_second = WORKER_LEADS / (last.timestamp() - started)
    noop_seconds = _noop_round_trip(app)
    smtp_seconds = _smtp_send(sink.port)
    # One routing task and one send task per email; each email one SMTP transaction.
    ceiling = 1 / ((1 + per_lead) * noop_seconds + per_lead * smtp_seconds)
    return {
        "leads_per_second": leads_per_second,
        "noop_seconds": noop_seconds,
        "smtp_seconds": smtp_seconds,
        "ceiling": ceiling,
        "ratio": leads_per_second / ceiling,
    }


def _noop_round_trip(app: object, count: int = 500) -> float:
    """Seconds per no-op task, published and run by the same one-process worker."""
    celery = app.extensions["celery"]  # type: ignore[attr-defined]
    counter = redis.Redis.from_url(REDIS_URL)
    counter.delete("bench:noop")
    started = time.time()
    with celery.producer_or_acquire() as producer:
        for _ in range(count):
            celery.send_task("bench.noop", producer=producer)
    while int(counter.get("bench:noop") or 0) < count:
        time.sleep(0.01)
    return (time.time() - started) / count


def _smtp_send(port: int, count: int = 200) -> float:
    """Seconds per email sent to the sink the way the worker sends (on one kept connection)."""
    started = time.time()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        for n in range(count):
            message = EmailMessage()
            message["From"] = "no-reply@careroute.local"
            message["To"] = f"sink{n}@example.com"
            message["Subject"] = "ceiling"
            message.set_content("x" * 600)
            client.send_message(message)
    return (time.time() - started) / count


def demo_clinics_without_limits() -> None:
    """The schema, the catalogue and the demo clinics, whose weekly places thousands of
    bench leads must not run out."""
    upgrade()
    load_catalog(db.session)
    load_demo_clinics(db.session)
    db.session.execute(update(Clinic).values(weekly_capacity=1_000_000))
    db.session.commit()


def main() -> dict[str, float]:
    figures: dict[str, float] = {}
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp, Sink() as sink:
        app = create_app(settings(url, CELERY_BROKER_URL=REDIS_URL))
        with app.app_context():
            demo_clinics_without_limits()
            db.session.remove()
        stack = Stack(url, Path(tmp), sink)
        try:
            stack.start_web()
            stack.start_relay()
            stack.start_worker(concurrency=2)
            per_lead = emails_per_lead(app)
            for phase in (
                lambda: intake(stack, app),
                lambda: routing_latency(stack, sink, app, per_lead),
                lambda: worker_cost(stack, sink, app, per_lead),
            ):
                figures.update(phase())
                save(figures)  # a later phase failing keeps the earlier figures
                print({key: value for key, value in figures.items()}, flush=True)
            with app.app_context():
                figures["pipeline.leads_stored"] = db.session.scalar(select(func.count(Lead.id)))
                db.engine.dispose()
        finally:
            stack.stop_all()
    table(
        "Intake (wrk, 2 threads, 8 connections; median of runs)",
        [
            ("inquiry POST", f"{figures['intake.per_second']}/s"),
            ("one-row form (ceiling)", f"{figures['intake.ceiling_per_second']}/s"),
            ("ratio", f"{figures['intake.ratio']} (target >= 0.6)"),
            (
                f"at {figures['intake.half_rate_per_second']}/s",
                f"p50 {figures['intake.half_rate_p50_ms']} ms, "
                f"p99 {figures['intake.half_rate_p99_ms']} ms",
            ),
        ],
    )
    table(
        f"Routing latency at 20 inquiries/s for {LATENCY_SECONDS} s (median of runs)",
        [
            ("p50", f"{figures['routing_latency.p50_ms']} ms"),
            (
                "p95",
                f"{figures['routing_latency.p95_ms']} ms "
                f"(spread {figures['routing_latency.p95_spread_ms']} ms; target < 1000 ms)",
            ),
            ("p99", f"{figures['routing_latency.p99_ms']} ms"),
        ],
    )
    table(
        "Worker cost (one process; the median run)",
        [
            ("leads fully processed", f"{figures['worker.leads_per_second']}/s"),
            ("ceiling from parts", f"{figures['worker.ceiling_leads_per_second']}/s"),
            (
                "ratio",
                f"{figures['worker.ratio']} (spread {figures['worker.ratio_spread']}; "
                "target >= 0.5)",
            ),
        ],
    )
    save(figures)
    return figures


if __name__ == "__main__":
    main()
