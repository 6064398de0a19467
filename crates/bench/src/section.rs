//! The section of `BENCHMARKS.md` that the bench writes: its figures, each beside its reference.

use crate::load::Outcome;
use crate::report::{self, ms, rate, verdict};
use crate::{BULK_GOAL, BUSY_GOAL, DbFigures, Figures, PGBENCH_GOAL, SLOTS_GOAL};

/// `value` against a goal it must reach (`at_least`) or stay under.
fn goal(value: f64, target: f64, at_least: bool, unit: &str) -> String {
    let met = if at_least {
        value >= target
    } else {
        value <= target
    };
    format!(
        "goal {} {target}{unit}: {}",
        if at_least { "≥" } else { "≤" },
        if met { "met" } else { "missed" }
    )
}

/// Milliseconds of a duration.
fn in_ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn latency(o: &Outcome) -> String {
    format!(
        "p50 {} · p99 {}",
        ms(o.percentile(0.5)),
        ms(o.percentile(0.99))
    )
}

/// Latency percentiles of a paced run, where the tail is the point.
fn tail(o: &Outcome) -> String {
    format!(
        "p50 {} · p90 {} · p99 {} · max {}",
        ms(o.percentile(0.5)),
        ms(o.percentile(0.9)),
        ms(o.percentile(0.99)),
        ms(o.percentile(1.0))
    )
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The section of `BENCHMARKS.md`.
pub(crate) fn render(f: &Figures) -> String {
    let a = &f.args;
    let c = a.concurrency;
    let m = &f.machine;
    let v = |k: &str| f.versions.get(k).cloned().unwrap_or_default();
    let pg_rate = f.postgres.bookings.rate(201);
    let sqlite_rate = f.sqlite.bookings.rate(201);
    let slots_row = |name: &str, d: &DbFigures| {
        let reference = d.precomputed.rate(200);
        format!(
            "| `GET /api/slots`, a month with 200 open slots ({} bytes), {name} | {} requests/s · {} | the same bytes precomputed: {} requests/s · {} | {} |\n",
            f.slots_body_bytes,
            rate(d.slots.rate(200)),
            latency(&d.slots),
            rate(reference),
            latency(&d.precomputed),
            verdict(d.slots.rate(200) / reference, SLOTS_GOAL),
        )
    };
    let per_second = |d: std::time::Duration| f.mail.emails as f64 / d.as_secs_f64().max(1e-9);
    let (drain_rate, mail_rate) = (per_second(f.mail.drained), per_second(f.mail.elapsed));
    let mut s = String::new();
    s.push_str(report::START);
    s.push('\n');
    s.push_str("## Load, memory and start-up (`scripts/bench`)\n\n");
    s.push_str(&format!(
        "Written by `scripts/bench` (`crates/bench`) on {}; rerun it to refresh this section (it \
         replaces only the text between its markers). Each ratio compares two figures measured \
         in the same run on the same machine, the two taking turns (but the bookings after \
         100,000 others and on the fresh database: one after the other).\n\n",
        f.date
    ));
    s.push_str(&format!(
        "- **Machine**: {} · {} cores · {:.1} GiB memory · Linux {}\n",
        m.cpu, m.cores, m.memory_gib, m.kernel
    ));
    s.push_str(&format!(
        "- **Versions**: {} (release build) · {} · PostgreSQL {} ({}) · SQLite {}\n",
        v("guidance"),
        v("rustc"),
        v("postgresql"),
        f.pgbench.version,
        v("sqlite")
    ));
    s.push_str(&format!(
        "- **Load**: {c} concurrent clients, each a kept-alive HTTP/1.1 connection (the bench's \
         own Tokio client, in its own process, sharing the {} cores with the server and the \
         database: booking requests each written whole and read to their `Content-Length`, as \
         lean as pgbench's client; the other requests by reqwest); all traffic on 127.0.0.1\n\n",
        m.cores
    ));
    s.push_str("| figure | guidance | reference, same run | ratio |\n|---|---|---|---|\n");
    s.push_str(&format!(
        "| Booking creation, PostgreSQL | {} bookings/s ({} × 201 in {:.1} s; {}; server CPU {}, PostgreSQL's CPU {} and {:.2} PostgreSQL transactions that wrote a booking) | pgbench, the same transaction, {c} clients: {} transactions/s ({} in {} s; average {:.1} ms; PostgreSQL's CPU {} a transaction) | {} |\n",
        rate(pg_rate),
        f.postgres.bookings.count(201),
        f.postgres.bookings.elapsed.as_secs_f64(),
        latency(&f.postgres.bookings),
        ms(f.postgres.booking_cpu),
        f.postgres.booking_db_cpu.map_or_else(|| "—".to_owned(), ms),
        f.postgres.booking_transactions.unwrap_or(f64::NAN),
        rate(f.pgbench.tps),
        f.pgbench.transactions,
        crate::pgbench::seconds(a),
        f.pgbench.latency_ms,
        f.pgbench.db_cpu.map_or_else(|| "—".to_owned(), ms),
        verdict(pg_rate / f.pgbench.tps, PGBENCH_GOAL),
    ));
    s.push_str(&format!(
        "| Booking creation, SQLite | {} bookings/s ({} × 201 in {:.1} s; {}; server CPU {} a booking) | — | — |\n",
        rate(sqlite_rate),
        f.sqlite.bookings.count(201),
        f.sqlite.bookings.elapsed.as_secs_f64(),
        latency(&f.sqlite.bookings),
        ms(f.sqlite.booking_cpu),
    ));
    let h = a.high_concurrency;
    for (name, d) in [("PostgreSQL", &f.postgres), ("SQLite", &f.sqlite)] {
        s.push_str(&format!(
            "| Booking creation, {name}, {h} clients | {} bookings/s ({} × 201 in {:.1} s; {}) | — | {} |\n",
            rate(d.bookings_high.rate(201)),
            d.bookings_high.count(201),
            d.bookings_high.elapsed.as_secs_f64(),
            latency(&d.bookings_high),
            goal(d.bookings_high.rate(201), 1000.0, true, "/s"),
        ));
    }
    for (name, d) in [("PostgreSQL", &f.postgres), ("SQLite", &f.sqlite)] {
        s.push_str(&format!(
            "| Booking latency, {name}, {} bookings/s offered (paced) | {} × 201 in {:.1} s; {} | — | p99 {} |\n",
            rate(a.paced_rate),
            d.paced.count(201),
            d.paced.elapsed.as_secs_f64(),
            tail(&d.paced),
            goal(in_ms(d.paced.percentile(0.99)), 20.0, false, " ms"),
        ));
    }
    s.push_str(&slots_row("SQLite", &f.sqlite));
    s.push_str(&slots_row("PostgreSQL", &f.postgres));
    for (name, d) in [("SQLite", &f.sqlite), ("PostgreSQL", &f.postgres)] {
        s.push_str(&format!(
            "| `GET /api/slots`, the same month, {name}, {h} clients | {} requests/s · {} | — | {} |\n",
            rate(d.slots_high.rate(200)),
            latency(&d.slots_high),
            if name == "SQLite" {
                format!("p99 {}", goal(in_ms(d.slots_high.percentile(0.99)), 5.0, false, " ms"))
            } else {
                "—".to_owned()
            },
        ));
    }
    s.push_str(&format!(
        "| Peak memory (`VmHWM`) after {} bookings | PostgreSQL: {} · SQLite: {} | — | — |\n",
        f.postgres.warm_up.count(201) + f.postgres.bookings.count(201),
        mib(f.postgres.peak_rss_kib),
        mib(f.sqlite.peak_rss_kib),
    ));
    s.push_str(&format!(
        "| Start-up, spawn → first `200` from `/healthz` (median of {}) | SQLite: {} · PostgreSQL: {} | — | — |\n",
        a.starts.max(1),
        ms(f.sqlite.startup),
        ms(f.postgres.startup),
    ));
    s.push_str(&format!(
        "| Outbox → local SMTP server, a queue of {} emails drained | {} emails/s (in {:.2} s, each once) | while bookings come in: {} emails/s ({} emails, {:.2} s from the first booking to the last email; the bookings took {:.2} s) | {} |\n",
        f.mail.emails,
        rate(drain_rate),
        f.mail.drained.as_secs_f64(),
        rate(mail_rate),
        f.mail.emails,
        f.mail.elapsed.as_secs_f64(),
        f.mail.queued_in.as_secs_f64(),
        goal(drain_rate, 1000.0, true, "/s"),
    ));
    s.push_str(&busy_rows(f));
    s.push_str(&bulk_rows(f));
    s.push('\n');
    s.push_str(&weights_table(f));
    s.push_str("How each figure is measured:\n\n");
    s.push_str(&format!(
        "- **Booking creation**: `POST /api/bookings` from {c} clients, each request for a \
         distinct open slot (slots seeded by SQL, 5 minutes each, booked in random order) with \
         the time shown for it (`starts_at`, `ends_at`), as the element sends them, \
         until {} bookings, after {} untimed ones (and, on PostgreSQL, an \
         `ANALYZE`, which autovacuum does on a live site but not within this run's first \
         minute); every answer must be `201`, and the database must then hold exactly \
         that many bookings and no slot with two live ones. The server's outbox worker runs as in \
         production, sending by SMTP (to Postfix's `smtp-sink`, which keeps nothing), so part \
         of the time goes to sending the emails of earlier bookings; the two cores full, it \
         falls behind and sends the rest once the run is over. The CPU figures count from the \
         run's start until the server is quiet again, those emails sent: the server's process, \
         and on PostgreSQL the database's (every `postgres` process on the machine, the \
         backends that ended included, and the transactions that wrote, by the server's \
         transaction ids), beside the database's CPU per pgbench transaction. \
         On PostgreSQL, guidance and pgbench take {turns} turns each, in the order guidance, \
         pgbench, pgbench, guidance, …, so that the shared machine's drift meets both alike: \
         guidance's bookings split evenly over its turns, each starting on a quiet server, and \
         in each of pgbench's, `pgbench -n -M prepared -c {c} -j {} -T {} -f \
         crates/bench/sql/book.sql` runs the statements of \
         `PostgresStore::create_booking` in the same database: {}lock the visitor's address (a visitor of its own for each \
         transaction, as in guidance's run), then in one statement claim an open slot with \
         the conditional `UPDATE`, which also counts the address's requests awaiting the \
         owner, and, only if it returned the slot (the others as `WITH` queries of the \
         booking's insert), insert the booking (returning it), its event, three action \
         tokens, two outbox rows of {} bytes (the average size of the emails guidance stored \
         in this run, queued already claimed by the server's worker, as guidance queues them) \
         and a webhook message for each endpoint that asked for the event (none here), \
         commit. pgbench sends \
         each statement in a round trip of its own; guidance sends them all, `BEGIN` to \
         `COMMIT`, in one simple query (its statement prepared by name once per connection, \
         the values written in as literals: pgbench's prepared mode cannot). \
         guidance does more per booking: it renders and seals the two emails (the owner's \
         answer-by reminder is only a time in the booking's row, written when due), answers \
         over HTTP, and its outbox worker sends the \
         emails of earlier bookings meanwhile.\n",
        a.bookings,
        a.warm_up_bookings(),
        c.min(2),
        crate::pgbench::turn_seconds(a),
        if f.service_role {
            "`SET LOCAL ROLE service_role` (as guidance does here, the role being present), "
        } else {
            ""
        },
        f.message_bytes,
        turns = crate::precomputed::TURNS,
    ));
    s.push_str(&format!(
        "- **`GET /api/slots`**: `?from=…&to=…` over the month starting tomorrow, holding 200 \
         open slots (and nothing else), on the server that has just taken the bookings, once it \
         is quiet (it has sent their emails; on PostgreSQL after a `VACUUM ANALYZE` of the tables \
         they grew, which autovacuum would otherwise run in the middle), as the reference runs on \
         a quiet machine; {c} clients for {} s after a 1 s warm-up. The reference is a tiny axum \
         server of the same make (`guidance-bench serve-bytes`: its own process, Tokio's \
         multi-threaded runtime, HTTP/1.1) answering the bytes and headers guidance answered, \
         from memory, to the same client, concurrency and duration. The two take turns, so that \
         the shared machine's drift meets both alike: {turns} turns of {turn:.1} s each, \
         guidance first in the odd turns and the reference first in the even ones.\n",
        a.seconds,
        turns = crate::precomputed::TURNS,
        turn = crate::precomputed::turn_length(a).as_secs_f64(),
    ));
    s.push_str(
        "- **Memory**: `VmHWM` in `/proc/<pid>/status` of the server process, read right after \
         the booking phase. **Start-up**: from spawning `guidance serve` on the already-migrated \
         database to the first `200` from `/healthz` (which itself asks the database), polled \
         every millisecond on a new connection.\n",
    );
    s.push_str(&format!(
        "- **Outbox → SMTP**: a fresh SQLite server with `GUIDANCE_SMTP_URL=smtp://127.0.0.1:PORT?tls=none` \
         (and the default number of connections) pointing at Postfix's `smtp-sink` (a single-process \
         SMTP server made for measuring mail throughput, from Debian's postfix package, \
         appending every message to one file; the tests' Python server, at about 1.6 ms of CPU \
         a message, could not take 1,000 a second here). First {} bookings, timed from the \
         first booking request until the sink holds their every email. Then the sink is stopped \
         (`SIGSTOP`) while {} more bookings queue their emails, and timed from its `SIGCONT` \
         until it holds every one of those. Every email must arrive once: the sink's file holds \
         as many messages and distinct Message-IDs as were queued.\n",
        f.mail.emails / 2,
        f.mail.emails / 2,
    ));
    s.push_str(&format!(
        "- **Bookings at {h} clients** and **paced**: on the same server right after the \
         {c}-client run, {} more bookings from {h} clients, then {} bookings sent at {} a second \
         whatever the answers (each request at its own moment, as independent visitors arrive), \
         each latency counted from the moment its request was due. Every timed booking run \
         starts once the server is quiet (under 5% of a core for half a second: it has sent the \
         emails of the run before; a run's own emails are sent during it). **`GET /api/slots` at {h} \
         clients**: the same month and duration as above.\n",
        a.bookings,
        a.paced_bookings(),
        rate(a.paced_rate),
    ));
    s.push_str(&format!(
        "- **The owner's calendars**: a fresh SQLite server (`GUIDANCE_CALENDAR_ALLOW_PRIVATE`) \
         and the default booking horizon ({} days), with the month's 200 slots and {} calendar \
         sources (`POST /api/admin/calendars`), each a feed of {} events ({:.0} KB over two \
         years, the last four months ahead: weekly series with exceptions, daily series, \
         all-day events, single meetings in a `TZID` with its `VTIMEZONE`) served by the bench \
         on 127.0.0.1; `GET /api/slots` over the month from {c} clients for {} s, against the \
         bytes it answered served precomputed (taking turns, as above). A poll's CPU time: the \
         server process's user + system time (`/proc/<pid>/stat`) over {} \
         `POST /api/admin/calendars/{{id}}/refresh` \
         of one source (fetch, read, store; the feed sent without validators, so never a \
         `304`), divided by their number; beside it, the calendar crate alone reading the same \
         feed in the bench's own thread.\n",
        crate::busy::HORIZON_DAYS,
        crate::busy::SOURCES,
        crate::busy::EVENTS,
        f.busy.feed_bytes as f64 / 1000.0,
        a.seconds,
        f.busy.polls,
    ));
    s.push_str(&format!(
        "- **After many bookings**: a fresh SQLite server; {} untimed bookings, {} timed, {} \
         more, and {} timed again, all from {} clients, each timed run on a quiet server, the \
         emails sent by SMTP as in the booking phase. The size is the database's pages in \
         use (`page_count − freelist_count`, write-ahead log included) before and after the \
         {} middle bookings, divided by them: bookings, events, tokens and sealed emails; \
         each table's share (with its indexes) from SQLite's `dbstat`.\n",
        crate::bulk::WARM_UP,
        a.bulk_timed,
        a.bulk_bookings,
        a.bulk_timed,
        f.bulk.clients,
        a.bulk_bookings,
    ));
    s.push_str(
        "- **Page weight**: a fresh SQLite server per schedule (20 open slots: two a weekday; 700: \
         every half hour 09:00–17:00 UTC on weekdays). The bench fetches `/book`, then every \
         style sheet and script the HTML names and every module those scripts import, each \
         once without and once with `Accept-Encoding: gzip, deflate, br`, and counts the body \
         bytes received. A return visit fetches the HTML again; files served \
         `Cache-Control: immutable` (the hashed names) come from the browser's cache. The \
         element is `/embed/guidance-booking.js` with `/api/intake` and its first \
         `/api/slots?limit=24`.\n",
    );
    s.push_str(report::END);
    s
}

/// The page-weight table: `/book` and the element, at each schedule.
fn weights_table(f: &Figures) -> String {
    let mut s = String::from(
        "| page weight (compressed · uncompressed) | first visit | return visit | times in the HTML |\n|---|---|---|---|\n",
    );
    for w in &f.weights {
        let (first, back) = (w.first_visit(), w.return_visit());
        s.push_str(&format!(
            "| `/book` with everything it loads, {} open slots | {} · {} | {} · {} | {} |\n",
            w.slots,
            kb(first.sent),
            kb(first.plain),
            kb(back.sent),
            kb(back.plain),
            w.slots_shown,
        ));
    }
    for w in &f.weights {
        let e = w.element();
        s.push_str(&format!(
            "| the element with its data, {} open slots | {} · {} | — | — |\n",
            w.slots,
            kb(e.sent),
            kb(e.plain),
        ));
    }
    if let Some(w) = f.weights.last() {
        s.push_str(&format!(
            "\nWhat `/book` and then the element load ({} open slots):",
            w.slots
        ));
        for p in w.page.iter().chain(&w.element) {
            s.push_str(&format!(
                " `{}` {} B ({} B compressed{});",
                p.path,
                p.plain,
                p.sent,
                if p.cached { ", immutable" } else { "" }
            ));
        }
        s.push_str("\n\n");
    }
    s
}

/// The rows of the calendars phase.
fn busy_rows(f: &Figures) -> String {
    let b = &f.busy;
    let reference = b.precomputed.rate(200);
    format!(
        "| `GET /api/slots`, the month ({} of 200 slots shown, {} bytes), {} calendars of {} events each, SQLite | {} requests/s · {} | the same bytes precomputed: {} requests/s · {} | {} |\n\
         | One poll of a {}-event feed ({:.0} KB), server CPU time | {} (average of {}) | the calendar crate alone: {} | {} |\n",
        b.shown,
        b.capture.body.len(),
        crate::busy::SOURCES,
        crate::busy::EVENTS,
        rate(b.slots.rate(200)),
        latency(&b.slots),
        rate(reference),
        latency(&b.precomputed),
        verdict(b.slots.rate(200) / reference, BUSY_GOAL),
        crate::busy::EVENTS,
        b.feed_bytes as f64 / 1000.0,
        ms(b.poll_cpu),
        b.polls,
        ms(b.parse_only),
        goal(in_ms(b.poll_cpu), 50.0, false, " ms"),
    )
}

/// The rows of the long run.
fn bulk_rows(f: &Figures) -> String {
    let b = &f.bulk;
    format!(
        "| Booking creation, SQLite, {} clients, after {} bookings | {} bookings/s ({}) | the same server fresh: {} bookings/s ({}) | {} |\n\
         | Database growth per booking, SQLite | {:.1} KB ({:.1} MB after {} bookings): {} | — | — |\n",
        b.clients,
        b.bulk.count(201),
        rate(b.after.rate(201)),
        latency(&b.after),
        rate(b.fresh.rate(201)),
        latency(&b.fresh),
        verdict(b.after.rate(201) / b.fresh.rate(201).max(1e-9), BULK_GOAL),
        b.bytes_per_booking() / 1000.0,
        b.bytes_after.total as f64 / 1e6,
        b.bulk.count(201) + 2 * f.args.bulk_timed + crate::bulk::WARM_UP,
        growth_by_table(b),
    )
}

/// The tables that grew by at least 50 bytes a booking, with their indexes: `guidance_email_outbox`
/// 5.9 KB, ….
fn growth_by_table(b: &crate::bulk::BulkFigures) -> String {
    let tables: Vec<String> = b
        .tables_per_booking()
        .into_iter()
        .filter(|(_, bytes)| *bytes >= 50.0)
        .map(|(table, bytes)| format!("`{table}` {:.2} KB", bytes / 1000.0))
        .collect();
    tables.join(", ")
}
