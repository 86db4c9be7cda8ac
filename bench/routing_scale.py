"""Routing scaled out: leads routed per second by 4 router processes at once against 1, on
PostgreSQL, 1,000 clinics, each router committing every lead as a worker does (target: a
ratio of at least 1.2 on a 2-core machine).

Beside it, the same 4 routers with the clinic locks taken out (`claim_clinics` reduced to
the plain ranking): unsafe, a probe only, it shows how far the locking is from what the
machine allows. Between runs, outside the clock, every assignment made is removed and the
clinics recounted, so each run routes the same leads to the same clinics.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.models import Lead
from app.models.base import utcnow
from app.services.leads import routing
from bench.common import FULL, repeat, save, scratch_database, settings, table
from bench.routing_alone import routing_world, undo_routing

CLINICS = 1_000
LEADS = 1_200 if FULL else 400
ROUTERS = 4


def _router(url: str, lead_ids: list[int], unlocked: bool, start: Any, spans: Any) -> None:
    """One router process: route each lead to 3 clinics and commit, as the worker does."""
    if unlocked:
        routing.claim_clinics = lambda session, lead, limit, today: routing.rank_clinics(  # type: ignore[assignment]
            session, lead, limit, today
        )
    app = create_app(settings(url))
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # connected before the clock starts
        start.wait()
        began = time.perf_counter()
        for lead_id in lead_ids:
            lead = db.session.get(Lead, lead_id)
            now = utcnow()
            routing.assign(db.session, lead, 3, now.date(), now, shared=True)
            db.session.commit()
        spans.put((began, time.perf_counter()))
        db.session.remove()
        db.engine.dispose()


def _leads_per_second(url: str, lead_ids: list[int], routers: int, unlocked: bool) -> float:
    context = multiprocessing.get_context("spawn")
    start, spans = context.Barrier(routers), context.Queue()
    shares = [lead_ids[n::routers] for n in range(routers)]
    processes = [
        context.Process(target=_router, args=(url, share, unlocked, start, spans))
        for share in shares
    ]
    for process in processes:
        process.start()
    times = [spans.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    elapsed = max(end for _, end in times) - min(began for began, _ in times)
    undo_routing(lead_ids, utcnow())
    return len(lead_ids) / elapsed


def main() -> dict[str, float]:
    with scratch_database() as url:
        app = create_app(settings(url))
        with app.app_context():
            lead_ids = routing_world(CLINICS, LEADS)
            one = repeat(lambda: _leads_per_second(url, lead_ids, 1, unlocked=False))
            four = repeat(lambda: _leads_per_second(url, lead_ids, ROUTERS, unlocked=False))
            probe = repeat(lambda: _leads_per_second(url, lead_ids, ROUTERS, unlocked=True))
            db.session.remove()
            db.engine.dispose()
    figures = {
        "routing_scale.one_router_per_s": round(one["median"], 1),
        "routing_scale.four_routers_per_s": round(four["median"], 1),
        "routing_scale.ratio": round(four["median"] / one["median"], 2),
        "routing_scale.unlocked_probe_ratio": round(probe["median"] / one["median"], 2),
        "routing_scale.target_ratio": 1.2,
    }
    table(
        f"Routing scale-out, {CLINICS:,} clinics, {len(lead_ids)} leads, median of "
        f"{int(one['runs'])} runs",
        [
            ("1 router", f"{one['median']:.1f} leads/s (spread {one['spread']:.1f})"),
            (
                f"{ROUTERS} routers",
                f"{four['median']:.1f} leads/s (spread {four['spread']:.1f}), "
                f"ratio {figures['routing_scale.ratio']} (target >= 1.2)",
            ),
            (
                f"{ROUTERS} routers, locks removed (unsafe probe)",
                f"{probe['median']:.1f} leads/s, "
                f"ratio {figures['routing_scale.unlocked_probe_ratio']}",
            ),
        ],
    )
    save(figures)
    return figures


if __name__ == "__main__":
    main()
