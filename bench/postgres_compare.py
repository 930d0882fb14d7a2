#!/usr/bin/python3
"""Takt side by side with PostgreSQL 15: the same workload through both, and the ratios.

What it measures (issue 19), on one machine, one run of both, like for like:
both sides durable (Takt acknowledges after fdatasync; PostgreSQL runs with
fsync, synchronous_commit and full_page_writes on, its defaults), the same
event counts, the same machine and the same temporary file system.

  1. Durable appends in batches of 100 events: Takt's embedded log with 1 and
     64 appenders (`takt bench log`: append_batch100_appenders1/64) against
     PostgreSQL with 1 client and with N clients (--pg-clients, default 4
     and 64: the 4 of the issue's table, and as many as Takt's appenders),
     each client its own connection (a process of its own) appending its own
     stream: one multi-row INSERT of 100 events a transaction into
       events(stream text, version bigint, type text, recorded timestamptz,
              payload jsonb, primary key (stream, version))
     with the versions the client expects (the primary key refuses a
     conflicting append), payloads of about 200 bytes of JSON (a production
     count observation: unit, product, counts, source, timestamps).
  2. Single-event durable commits: append_batch1_appenders1/64 against one
     single-row INSERT a transaction (autocommit), 1 and N clients;
     events/s and the median commit latency. (PostgreSQL's group commit
     gains from concurrent committers, hence the 64.)
  3. Projection rebuild: Takt's `takt bench ingest` (simulated plants, 7
     days; its projection_rebuild figure: events/s folding the log into
     hourly ISO 22400 elements) against one INSERT ... SELECT ... GROUP BY
     that builds unit_hours(facility, unit, hour, day, pbt, apt, aust, adet,
     adot, pdt, pri_pq, pri_gq, pq, gq, sq, rq, fe, tbf, ttr, ttf, aoet) from
     the same kind of observation events in the events table (a port of
     Takt's plant simulator: same plants, units, shifts, failures, stops,
     changeovers and 15-minute counts; same time zones, facility-local hours
     and 06:00 production days). A second PostgreSQL figure also writes what
     Takt's rebuild writes besides unit hours (facility hours, facility days
     and per-reason stoppage hours), in the same statement.
  4. A region's OEE over one week: Takt's `takt bench query` (50 plants x 20
     units x 90 days of hourly rows, 5 regions; query_region_week, p50/p99
     in process ("server") and over gRPC ("client")) against the same rows
     in PostgreSQL (unit_hours with the same values, and facility_days rolled
     up from it by SQL, as Takt keeps them) and a prepared statement
     computing OEE = PRI*GQ / PBT, availability, effectiveness and quality
     ratio from sums over the region's plants and days. Client side is
     psycopg2 over the Unix socket (or TCP, --pg-tcp); "server" side is the
     execution time EXPLAIN ANALYZE reports for the same statements.

Takt's figures come from its own benchmarks, run here as subprocesses with
--json; PostgreSQL's from a scratch cluster this script creates in a fresh
temporary directory (TMPDIR, the file system Takt's benchmarks write to),
runs as an unprivileged user (postgres, or a system user takt-bench it
creates when run as root and neither --pg-user nor postgres exists),
listening on a Unix socket in that directory and 127.0.0.1 on a free port,
and stops and removes at the end, also on errors and Ctrl-C.

Usage:
  bench/postgres_compare.py [--takt PATH] [--scale X] [--pg-clients N,M]
                            [--sections appends,single,rebuild,query]
                            [--json] ...
  (--help lists every option.) --scale sizes both sides alike: the event
  counts of `takt bench log --scale X`, round(24 X) plants for the rebuild,
  max(8, round(90 X)) days and max(50, round(1000 X)) queries for the
  query figures. At --scale 1 a run takes a few minutes; --scale 0.05 is a
  smoke test of seconds.

Prints a Markdown table (figure | Takt | PostgreSQL | Takt / PostgreSQL |
faster), the machine (cores, CPU model, memory, load) and the date;
--json prints one JSON object instead (figures, every raw figure of both
sides, machine, settings). Progress goes to stderr.

Requirements: the takt binary (build/release/cmd/takt/takt by default; the
script fails when it is missing), Debian's postgresql-15 (server binaries in
/usr/lib/postgresql/15/bin, --pg-bin) and python3-psycopg2. Without
PostgreSQL's binaries or psycopg2 it prints why and exits 0 (skipped).

PostgreSQL settings beyond the defaults: shared_buffers 1GB
(--shared-buffers), max_wal_size 4GB, work_mem 64MB, maintenance_work_mem
256MB, and jit off for the queries; a CHECKPOINT before each timed append
scenario and rebuild, VACUUM ANALYZE after loading.

What is not the same on both sides (read the ratios with it):
  - `takt bench log` appends in process, straight into the embedded log;
    PostgreSQL's appends go through client processes (Python, psycopg2, one
    round trip a transaction), which share the cores with the server.
  - Takt's log does more per event (SHA-256 chain, event ids, signed
    checkpoints) and its payloads are 200 random bytes in a protobuf
    envelope; PostgreSQL's rows are about 210 bytes of JSON as jsonb.
    `takt bench log` appends with no expected version; PostgreSQL's primary
    key checks every version.
  - Takt's rebuild folds the log incrementally (late and out-of-order
    events re-attributed exactly, timelines stored for restarts);
    PostgreSQL's SQL sees all events at once. Its events come from a port
    of the simulator (other random draws: event counts within a few %).
  - Takt's rollups keep facility days up to date as events arrive;
    PostgreSQL's facility_days is built once by SQL. Region membership is
    static in PostgreSQL, dated in Takt's model.

A benchmark that prints figures, not a test: it asserts nothing. Run it on a
quiet machine; single runs on a small VM vary by tens of percent.
"""
import argparse
import datetime
import json
import math
import os
import platform
import pwd
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TAKT = os.path.normpath(os.path.join(HERE, "..", "build", "release", "cmd", "takt", "takt"))
DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin"
SECTIONS = ("appends", "single", "rebuild", "query")
SUPERUSER = "takt"  # the cluster's superuser (trust authentication, scratch cluster)

# Takt's `bench log` scenarios at scale 1 (bench/bench_log.cc): appenders,
# batch, appends per appender.
LOG_SCENARIOS = {
    "append_batch1_appenders1": (1, 1, 20000),
    "append_batch1_appenders64": (64, 1, 3125),
    "append_batch100_appenders1": (1, 100, 6000),
    "append_batch100_appenders64": (64, 100, 250),
}

ELEMENTS = ("pbt", "apt", "aust", "adet", "adot", "pdt", "pri_pq", "pri_gq", "pq", "gq", "sq", "rq",
            "fe", "tbf", "ttr", "ttf", "aoet")

STATE_CHANGED = "takt.scheduling.v1.UnitStateChanged"
COUNTED = "takt.scheduling.v1.ProductionCounted"
ORDER_STARTED = "takt.scheduling.v1.OrderStarted"
ORDER_ENDED = "takt.scheduling.v1.OrderEnded"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def skip(reason):
    print(f"postgres_compare: skipped: {reason}", flush=True)
    sys.exit(0)


def fail(reason):
    print(f"postgres_compare: error: {reason}", file=sys.stderr, flush=True)
    sys.exit(2)


def percentile(values, q):
    """Nearest rank, as Takt's benchmarks compute it (0 for no values)."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(math.ceil(q * len(s))) - 1))]


# ----------------------------------------------------------------------------
# Sizes

def sizes(args):
    s = args.scale
    n = {}
    for name, (appenders, batch, appends) in LOG_SCENARIOS.items():
        n[name] = appenders * max(1, int(appends * s))  # appends (transactions) in all, as takt does
    n["facilities"] = args.facilities if args.facilities else max(1, round(24 * s))
    n["days"] = 7
    n["query_facilities"] = 50
    n["query_units"] = 20
    n["query_days"] = args.query_days if args.query_days else max(8, round(90 * s))
    n["queries"] = args.queries if args.queries else max(50, round(1000 * s))
    return n


# ----------------------------------------------------------------------------
# Takt's side: its own benchmarks

def run_takt(takt, argv):
    cmd = [takt, "bench"] + argv + ["--json"]
    log("takt: " + " ".join(cmd[1:]))
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)} exited with {r.returncode}:\n{r.stderr[-3000:]}{r.stdout[-2000:]}")
    out = {}
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            obj = json.loads(line)
            out[obj["name"]] = obj
    return out, " ".join(["takt", "bench"] + argv + ["--json"])


# ----------------------------------------------------------------------------
# A scratch PostgreSQL cluster

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_os_user(requested):
    """The unprivileged user to run initdb and postgres as (None: ourselves)."""
    if os.geteuid() != 0:
        return None
    name = requested
    if not name:
        try:
            pwd.getpwnam("postgres")
            name = "postgres"
        except KeyError:
            name = "takt-bench"
    try:
        return pwd.getpwnam(name)
    except KeyError:
        if requested:
            fail(f"--pg-user {requested}: no such user")
        log(f"creating the system user {name} to run PostgreSQL (postgres refuses to run as root)")
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True)
        return pwd.getpwnam(name)


class Postgres:
    def __init__(self, bindir, user, settings, tcp):
        self.bindir = bindir
        self.user = user
        self.settings = settings
        self.tcp = tcp
        self.dir = None
        self.proc = None
        self.port = None

    def _as_user(self):
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="takt-pg-compare-")
        if self.user is not None:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.dir, 0o700)
        data = os.path.join(self.dir, "data")
        env = {"PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "TZ": "UTC"}
        log(f"postgres: initdb in {data}")
        r = subprocess.run([os.path.join(self.bindir, "initdb"), "-D", data, "-U", SUPERUSER, "--auth=trust",
                            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
                           cwd=self.dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           **self._as_user())
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{r.stdout[-3000:]}")
        self.port = free_port()
        options = dict(self.settings)
        options.update({"port": str(self.port), "listen_addresses": "127.0.0.1",
                        "unix_socket_directories": self.dir, "timezone": "UTC"})
        argv = [os.path.join(self.bindir, "postgres"), "-D", data]
        for k, v in options.items():
            argv += ["-c", f"{k}={v}"]
        self.logfile = os.path.join(self.dir, "postgres.log")
        with open(self.logfile, "w") as f:
            if self.user is not None:
                os.chown(self.logfile, self.user.pw_uid, self.user.pw_gid)
            # A session of its own: Ctrl-C reaches this script, which stops
            # the server in order (after its clients) and removes the cluster.
            self.proc = subprocess.Popen(argv, cwd=self.dir, env=env, stdout=f, stderr=subprocess.STDOUT,
                                         start_new_session=True, **self._as_user())
        deadline = time.monotonic() + 60
        while True:
            try:
                self.connect().close()
                break
            except Exception:  # noqa: BLE001 (psycopg2.OperationalError until it is up)
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("postgres did not start:\n" + self.log_tail())
                time.sleep(0.1)
        log(f"postgres: up (pid {self.proc.pid}, socket {self.dir}, port {self.port})")

    def log_tail(self):
        try:
            with open(self.logfile) as f:
                lines = f.read().splitlines()[-20:]
            return "\n".join(line if len(line) <= 300 else line[:300] + " ..." for line in lines)
        except OSError:
            return ""

    def conninfo(self):
        return {"host": "127.0.0.1" if self.tcp else self.dir, "port": self.port, "user": SUPERUSER,
                "dbname": "postgres"}

    def connect(self, autocommit=True):
        import psycopg2
        conn = psycopg2.connect(**self.conninfo())
        conn.autocommit = autocommit
        return conn

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGQUIT)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            log("postgres: stopped")
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            log(f"postgres: removed {self.dir}")
            self.dir = None


# ----------------------------------------------------------------------------
# PostgreSQL: appends (client processes)

SCHEMA = """
CREATE TABLE events (
  stream   text        NOT NULL,
  version  bigint      NOT NULL,
  type     text        NOT NULL,
  recorded timestamptz NOT NULL DEFAULT now(),
  payload  jsonb       NOT NULL,
  PRIMARY KEY (stream, version)
);
"""


def sample_payload(client, version):
    """About 200 bytes of JSON: a production count as a gateway reports it."""
    t = 1_767_600_000 + version * 15
    return json.dumps({
        "work_unit": f"line-{client % 4 + 1}-m{version % 3 + 1}", "product": "door",
        "good": 20 + version % 7, "scrap": version % 3, "rework": 0,
        "planned_run_time_per_item_us": 40000000, "source_id": f"gw-bench-{client}",
        "source_sequence": version,
        "occurred_time": datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"),
    }, separators=(",", ":"))


def append_worker(conninfo, stream, client, transactions, batch, barrier, results):
    """One client: builds its statements (before the clock starts, as Takt's
    benchmark builds its requests), waits for the others, appends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        import psycopg2
        conn = psycopg2.connect(**conninfo)
        conn.autocommit = True  # one statement, one durable transaction
        cur = conn.cursor()
        statements = []
        version = 0
        for _ in range(transactions):
            rows = []
            for _ in range(batch):
                version += 1
                payload = sample_payload(client, version).replace("'", "''")
                rows.append(f"('{stream}',{version},'{COUNTED}','{payload}')")
            statements.append("INSERT INTO events (stream, version, type, payload) VALUES " + ",".join(rows))
        latencies = []
        barrier.wait()
        t0 = time.monotonic()
        for s in statements:
            a = time.perf_counter()
            cur.execute(s)
            latencies.append((time.perf_counter() - a) * 1000.0)
        t1 = time.monotonic()
        conn.close()
        results.put((t0, t1, latencies))
    except Exception as e:  # noqa: BLE001 (reported by the parent)
        results.put(("error", f"{type(e).__name__}: {str(e)[:500]}", None))


def pg_appends(pg, name, clients, transactions, batch):
    """`transactions` in all, spread over `clients` processes, each its own stream."""
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")  # no inherited connections
    with pg.connect() as conn, conn.cursor() as cur:
        cur.execute("CHECKPOINT")
    conn.close()
    barrier = ctx.Barrier(clients)
    results = ctx.Queue()
    share = [transactions // clients + (1 if c < transactions % clients else 0) for c in range(clients)]
    procs = [ctx.Process(target=append_worker, daemon=True,
                         args=(pg.conninfo(), f"bench/{name}-{c}", c, share[c], batch, barrier, results))
             for c in range(clients)]
    for p in procs:
        p.start()
    got = []
    done = False
    try:
        while len(got) < clients:
            try:
                r = results.get(timeout=5)
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in procs):
                    raise RuntimeError(f"a PostgreSQL client of {name} died") from None
                continue
            if r[0] == "error":
                raise RuntimeError(f"a PostgreSQL client of {name} failed: {r[1]}")
            got.append(r)
        done = True
    finally:
        for p in procs:
            if done:
                p.join(30)
            if p.is_alive():
                p.terminate()
                p.join()
    seconds = max(g[1] for g in got) - min(g[0] for g in got)
    latencies = [x for g in got for x in g[2]]
    events = transactions * batch
    return {"name": name, "events": events, "seconds": seconds, "events_per_second": events / seconds,
            "appends_per_second": transactions / seconds, "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99), "clients": clients, "batch": batch}


# ----------------------------------------------------------------------------
# The plants: a port of services/scheduling/sim/simulator.cc (same shape and
# rates; Python's random numbers, so not the same draws)

SITES = [("detroit", "America/Detroit", "americas"), ("stuttgart", "Europe/Berlin", "emea"),
         ("shanghai", "Asia/Shanghai", "apac"), ("monterrey", "America/Monterrey", "americas"),
         ("pune", "Asia/Kolkata", "apac"), ("lyon", "Europe/Paris", "emea"),
         ("chicago", "America/Chicago", "americas"), ("nagoya", "Asia/Tokyo", "apac")]
PRODUCTS = [("door", 40), ("hood", 75), ("fender", 30), ("roof", 90)]
REASONS = ["hydraulic-leak", "die-crack", "sensor-fault", "feeder-jam", "electrical"]


def simulate(facilities, days, seed=1, start=datetime.date(2026, 1, 5)):
    """Facilities (id, zone, region) and their observations as
    (facility, [(t, type, payload dict)] in time order)."""
    from zoneinfo import ZoneInfo
    rng = random.Random(seed)
    uniform = rng.uniform

    def exponential(mean):
        return rng.expovariate(1.0 / mean)

    def binomial(n, p):
        return sum(1 for _ in range(n) if rng.random() < p)

    plants, streams = [], []
    for f in range(facilities):
        site, zone, region = SITES[f % len(SITES)]
        facility = f"{site}-{f // 8 + 1}"
        plants.append((facility, zone, region))
        begin = datetime.datetime(start.year, start.month, start.day, 6, tzinfo=ZoneInfo(zone)).timestamp()
        end = begin + 86400 * days
        reliability = uniform(0.5, 1.5)
        machines = []
        for line in range(2):
            for u in range(3):
                machines.append((f"line-{line + 1}-m{u + 1}", uniform(4, 16) * reliability, uniform(15, 60),
                                 uniform(0.82, 0.98), uniform(0.005, 0.04), uniform(0.0, 0.02)))
        obs = []
        for unit, mtbf_h, mttr_min, speed, scrap_rate, rework_rate in machines:
            t = begin
            product = PRODUCTS[rng.randrange(4)]

            def state(at, s, reason):
                obs.append((at, STATE_CHANGED, {"work_unit": unit, "state": "UNIT_STATE_" + s,
                                                "reason_code": reason, "product": product[0]}))

            def count(at, running_seconds):
                total = int(running_seconds * speed / product[1] + uniform(0, 1))
                if total <= 0:
                    return
                scrap = binomial(total, scrap_rate)
                rework = binomial(total - scrap, rework_rate)
                obs.append((at, COUNTED, {"work_unit": unit, "product": product[0], "good": total - scrap - rework,
                                          "scrap": scrap, "rework": rework,
                                          "planned_run_time_per_item_us": product[1] * 1_000_000}))

            next_failure = t + exponential(mtbf_h * 3600)
            next_order = t
            next_stop = t + exponential(3600)
            next_maintenance = begin + 20 * 3600
            order = 0
            state(t, "RUNNING", "")
            while t < end:
                if t >= next_order:
                    if order > 0:
                        obs.append((t, ORDER_ENDED, {"work_unit": unit, "order_id": f"{unit}-wo{order}"}))
                    order += 1
                    product = PRODUCTS[rng.randrange(4)]
                    obs.append((t, ORDER_STARTED, {"work_unit": unit, "order_id": f"{unit}-wo{order}",
                                                   "product": product[0]}))
                    setup = uniform(15, 40) * 60
                    state(t, "SETUP", "changeover")
                    t += setup
                    state(t, "RUNNING", "")
                    next_order = t + uniform(3, 6) * 3600
                    continue
                if t >= next_maintenance:
                    state(t, "PLANNED_DOWNTIME", "planned-maintenance")
                    t += 30 * 60
                    state(t, "RUNNING", "")
                    next_maintenance += 24 * 3600
                    continue
                until = min(t + 15 * 60, next_failure, next_order, next_stop, next_maintenance, end)
                count(until - 1, until - t)
                t = until
                if t >= end:
                    break
                if t >= next_failure:
                    state(t, "DOWN", REASONS[rng.randrange(5)])
                    t += exponential(mttr_min * 60)
                    state(t, "RUNNING", "")
                    next_failure = t + exponential(mtbf_h * 3600)
                elif t >= next_stop:
                    state(t, "DELAYED", "minor-stop")
                    t += uniform(60, 300)
                    state(t, "RUNNING", "")
                    next_stop = t + exponential(3600)
            state(end, "IDLE", "end-of-simulation")
            if order > 0:
                obs.append((end, ORDER_ENDED, {"work_unit": unit, "order_id": f"{unit}-wo{order}"}))
        obs.sort(key=lambda o: o[0])  # stable: same-instant observations keep their order
        streams.append((facility, obs))
    return plants, streams


def load_observations(pg, plants, streams):
    """The observations as events (one stream per facility, as Takt's log
    keeps them), through COPY; not timed."""
    import io
    buf = io.StringIO()
    n = 0
    for facility, obs in streams:
        source = f"gw-{facility}-seed1"
        for seq, (t, typ, payload) in enumerate(obs, start=1):
            p = dict(payload)
            p["source_id"] = source
            p["source_sequence"] = seq
            p["occurred_time"] = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ")
            buf.write(f"scheduling/{facility}\t{seq}\t{typ}\t{json.dumps(p, separators=(',', ':'))}\n")
            n += 1
    buf.seek(0)
    conn = pg.connect()
    cur = conn.cursor()
    cur.execute("TRUNCATE events")
    cur.execute("CREATE TABLE facilities (facility text PRIMARY KEY, zone text NOT NULL, region text NOT NULL)")
    cur.executemany("INSERT INTO facilities VALUES (%s, %s, %s)", plants)
    cur.copy_expert("COPY events (stream, version, type, payload) FROM STDIN", buf)
    cur.execute("VACUUM (ANALYZE) events")  # the steady state of a table a rebuild reads
    cur.execute("ANALYZE facilities")
    cur.execute("CHECKPOINT")
    conn.close()
    return n


def element_table(name, key):
    cols = ",\n  ".join(f"{e} bigint NOT NULL DEFAULT 0" for e in ELEMENTS)
    return f"CREATE TABLE {name} (\n  {key},\n  {cols}\n)"


REBUILD_TABLES = [
    element_table("unit_hours", "facility text NOT NULL, unit text NOT NULL, hour timestamptz NOT NULL, "
                                "day date NOT NULL, PRIMARY KEY (facility, unit, hour)"),
    element_table("facility_hours", "facility text NOT NULL, hour timestamptz NOT NULL, day date NOT NULL, "
                                    "PRIMARY KEY (facility, hour)"),
    element_table("facility_days", "facility text NOT NULL, day date NOT NULL, PRIMARY KEY (facility, day)"),
    "CREATE TABLE reason_hours (facility text NOT NULL, hour timestamptz NOT NULL, reason text NOT NULL, "
    "micros bigint NOT NULL, stoppages bigint NOT NULL, PRIMARY KEY (facility, hour, reason))",
]


def hour_start(t, zone):
    """The start of the facility-local hour holding t (half-hour zones too)."""
    return f"(date_trunc('hour', {t} AT TIME ZONE {zone}) AT TIME ZONE {zone})"


# The fold, as Takt's unit timelines do it (libs/kpi/unit_timeline.cc): a
# state holds from its change to the unit's next change (at most 31 days;
# the last, open one is not counted), split at facility-local hours;
# running -> APT, setup -> AUST, delayed -> ADET, down -> ADET and TTR,
# idle -> ADOT, all of them PBT, planned downtime -> PDT; running and setup
# are operating time (TBF, TTF); entering down counts a failure (FE); an
# order's execution time (AOET) runs from its start to the unit's next order
# change; a count adds PQ = good + scrap + rework, GQ, SQ, RQ and PRI x PQ,
# PRI x GQ in its hour. Production day: the local hour minus the 06:00 day
# start.
REBUILD_CTES = f"""
obs AS MATERIALIZED (
  SELECT substr(e.stream, 12) AS facility, e.type, e.version, e.payload->>'work_unit' AS unit,
         (e.payload->>'occurred_time')::timestamptz AS t, e.payload AS p
  FROM events e
  WHERE e.stream LIKE 'scheduling/%'
),
changes AS (
  SELECT facility, unit, t, p->>'state' AS state, p->>'reason_code' AS reason,
         lead(t) OVER w AS t_next, lead(p->>'state') OVER w AS next_state,
         lead(p->>'reason_code') OVER w AS next_reason
  FROM obs WHERE type = '{STATE_CHANGED}'
  WINDOW w AS (PARTITION BY facility, unit ORDER BY t, version)
),
orders AS (
  SELECT facility, unit, t, type = '{ORDER_STARTED}' AS started, lead(t) OVER w AS t_next
  FROM obs WHERE type IN ('{ORDER_STARTED}', '{ORDER_ENDED}')
  WINDOW w AS (PARTITION BY facility, unit ORDER BY t, version)
),
intervals AS (
  SELECT facility, unit, state, reason, t AS t0, least(t_next, t + interval '31 days') AS t1
  FROM changes WHERE t_next > t
  UNION ALL
  SELECT facility, unit, 'ORDER', NULL, t, least(t_next, t + interval '31 days')
  FROM orders WHERE started AND t_next > t
),
pieces AS MATERIALIZED (
  SELECT i.facility, i.unit, i.state, i.reason, h.hour,
         (extract(epoch FROM least(i.t1, h.hour + interval '1 hour') - greatest(i.t0, h.hour))
          * 1000000)::bigint AS us
  FROM intervals i JOIN facilities f ON f.facility = i.facility,
       LATERAL generate_series({hour_start('i.t0', 'f.zone')}, i.t1 - interval '1 microsecond',
                               interval '1 hour') AS h(hour)
),
contributions AS (
  SELECT facility, unit, hour, state, us, 0::bigint AS fe, 0::bigint AS pq, 0::bigint AS gq,
         0::bigint AS sq, 0::bigint AS rq, 0::bigint AS pri
  FROM pieces
  UNION ALL
  SELECT c.facility, c.unit, {hour_start('c.t_next', 'f.zone')}, NULL, 0, 1, 0, 0, 0, 0, 0
  FROM changes c JOIN facilities f ON f.facility = c.facility
  WHERE c.next_state = 'UNIT_STATE_DOWN' AND c.state <> 'UNIT_STATE_DOWN'
  UNION ALL
  SELECT o.facility, o.unit, {hour_start('o.t', 'f.zone')}, NULL, 0, 0,
         (p->>'good')::bigint + (p->>'scrap')::bigint + (p->>'rework')::bigint,
         (p->>'good')::bigint, (p->>'scrap')::bigint, (p->>'rework')::bigint,
         (p->>'planned_run_time_per_item_us')::bigint
  FROM obs o JOIN facilities f ON f.facility = o.facility
  WHERE o.type = '{COUNTED}'
)"""


def _sum(expr, where):
    return f"coalesce(sum({expr}) FILTER (WHERE {where}), 0)"


UNIT_HOURS_SELECT = f"""
SELECT c.facility, c.unit, c.hour, ((c.hour AT TIME ZONE f.zone) - interval '6 hours')::date,
  {_sum('us', "state IN ('UNIT_STATE_RUNNING', 'UNIT_STATE_SETUP', 'UNIT_STATE_DELAYED', 'UNIT_STATE_DOWN', 'UNIT_STATE_IDLE')")},
  {_sum('us', "state = 'UNIT_STATE_RUNNING'")},
  {_sum('us', "state = 'UNIT_STATE_SETUP'")},
  {_sum('us', "state IN ('UNIT_STATE_DELAYED', 'UNIT_STATE_DOWN')")},
  {_sum('us', "state = 'UNIT_STATE_IDLE'")},
  {_sum('us', "state = 'UNIT_STATE_PLANNED_DOWNTIME'")},
  sum(pq * pri), sum(gq * pri), sum(pq), sum(gq), sum(sq), sum(rq), sum(fe),
  {_sum('us', "state IN ('UNIT_STATE_RUNNING', 'UNIT_STATE_SETUP')")},
  {_sum('us', "state = 'UNIT_STATE_DOWN'")},
  {_sum('us', "state IN ('UNIT_STATE_RUNNING', 'UNIT_STATE_SETUP')")},
  {_sum('us', "state = 'ORDER'")}
FROM contributions c JOIN facilities f ON f.facility = c.facility
GROUP BY c.facility, c.unit, c.hour, f.zone"""

COLUMNS = ", ".join(ELEMENTS)
SUMS = ", ".join(f"sum({e})" for e in ELEMENTS)

# The unit hours alone: one INSERT ... SELECT ... GROUP BY.
REBUILD_UNIT_HOURS = (f"INSERT INTO unit_hours (facility, unit, hour, day, {COLUMNS})\n"
                      f"WITH {REBUILD_CTES}\n{UNIT_HOURS_SELECT}")

# Everything Takt's rebuild writes besides the timelines (which the events
# table holds already): unit hours, facility hours, facility days and the
# stoppages per reason and hour, in one statement.
REBUILD_ALL = f"""
WITH {REBUILD_CTES},
reasons AS (
  INSERT INTO reason_hours (facility, hour, reason, micros, stoppages)
  SELECT facility, hour, reason, sum(micros), sum(stoppages) FROM (
    SELECT facility, hour, CASE WHEN reason = '' THEN '(no reason)' ELSE reason END AS reason,
           us AS micros, 0 AS stoppages
    FROM pieces WHERE state IN ('UNIT_STATE_DELAYED', 'UNIT_STATE_DOWN')
    UNION ALL
    SELECT c.facility, {hour_start('c.t_next', 'f.zone')},
           CASE WHEN c.next_reason = '' THEN '(no reason)' ELSE c.next_reason END, 0, 1
    FROM changes c JOIN facilities f ON f.facility = c.facility
    WHERE c.next_state IN ('UNIT_STATE_DELAYED', 'UNIT_STATE_DOWN')
      AND (c.next_state <> c.state OR c.next_reason <> c.reason)
  ) r GROUP BY facility, hour, reason
  RETURNING 1
),
units AS (
  INSERT INTO unit_hours (facility, unit, hour, day, {COLUMNS})
  {UNIT_HOURS_SELECT}
  RETURNING facility, hour, day, {COLUMNS}
),
facility_hours_ins AS (
  INSERT INTO facility_hours (facility, hour, day, {COLUMNS})
  SELECT facility, hour, min(day), {SUMS} FROM units GROUP BY facility, hour
  RETURNING 1
)
INSERT INTO facility_days (facility, day, {COLUMNS})
SELECT facility, day, {SUMS} FROM units GROUP BY facility, day"""


def pg_rebuild(pg, facilities, days):
    log(f"postgres: simulating {facilities} plants x {days} days (port of Takt's simulator)")
    plants, streams = simulate(facilities, days)
    events = load_observations(pg, plants, streams)
    log(f"postgres: {events} observation events loaded; rebuilding unit hours by SQL")
    conn = pg.connect()
    cur = conn.cursor()
    for ddl in REBUILD_TABLES:
        cur.execute(ddl)
    results = {}
    for name, sql in (("projection_rebuild_sql_unit_hours", REBUILD_UNIT_HOURS),
                      ("projection_rebuild_sql_all_tables", REBUILD_ALL)):
        cur.execute("TRUNCATE unit_hours, facility_hours, facility_days, reason_hours")
        cur.execute("CHECKPOINT")
        t0 = time.perf_counter()
        cur.execute(sql)  # autocommit: one durable transaction
        seconds = time.perf_counter() - t0
        results[name] = {"name": name, "events": events, "seconds": seconds, "events_per_second": events / seconds}
    cur.execute("SELECT count(*), sum(pbt), sum(apt), sum(pri_pq), sum(pri_gq), sum(fe) FROM unit_hours")
    rows, pbt, apt, pri_pq, pri_gq, fe = cur.fetchone()
    cur.execute("SELECT count(*) FROM facility_days")
    day_rows = cur.fetchone()[0]
    results["projection_rebuild_sql_unit_hours"].update({
        "unit_hour_rows": rows, "facility_day_rows": day_rows, "failures": int(fe),
        "availability": float(apt) / float(pbt) if pbt else None,
        "oee": float(pri_gq) / float(pbt) if pbt else None})
    conn.close()
    return results


# ----------------------------------------------------------------------------
# PostgreSQL: a region's OEE over a week

QUERY_ZONES = ["America/Chicago", "Europe/Berlin", "Asia/Shanghai", "America/Sao_Paulo", "Asia/Kolkata"]
FIRST_DAY = datetime.date(2026, 1, 5)


def pg_query_data(pg, facilities, units, days):
    """The rows of `takt bench query`: every unit's hours from the day before
    the first to the day after the last, PBT one hour, APT 40 to 57 minutes."""
    conn = pg.connect()
    cur = conn.cursor()
    cur.execute("CREATE TABLE q_facilities (facility text PRIMARY KEY, zone text NOT NULL, region text NOT NULL)")
    cur.executemany("INSERT INTO q_facilities VALUES (%s, %s, %s)",
                    [(f"plant-{f}", QUERY_ZONES[f % 5], f"region-{f % 5}") for f in range(facilities)])
    cur.execute(element_table("q_unit_hours", "facility text NOT NULL, unit text NOT NULL, "
                                              "hour timestamptz NOT NULL, day date NOT NULL"))
    cur.execute(element_table("q_facility_days", "facility text NOT NULL, day date NOT NULL"))
    t_begin = datetime.datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day,
                                tzinfo=datetime.timezone.utc) - datetime.timedelta(hours=24)
    hours = 24 * (days + 2)
    t0 = time.perf_counter()
    cur.execute("SELECT setseed(0.5)")
    cur.execute(f"""
      INSERT INTO q_unit_hours (facility, unit, hour, day, pbt, apt, adet, pri_pq, pri_gq, pq, gq)
      SELECT facility, unit, hour, ((hour AT TIME ZONE zone) - interval '6 hours')::date,
             3600000000, apt, 3600000000 - apt, apt * 9 / 10, apt * 87 / 100, apt / 40000000, apt / 41000000
      FROM (
        SELECT f.facility, f.zone, 'u' || u AS unit,
               {hour_start("(%s::timestamptz + h * interval '1 hour')", 'f.zone')} AS hour,
               2400000000 + floor(random() * 1000000000)::bigint AS apt
        FROM q_facilities f, generate_series(0, %s - 1) u, generate_series(0, %s - 1) h
      ) s""", (t_begin, units, hours))
    cur.execute("ALTER TABLE q_unit_hours ADD PRIMARY KEY (facility, unit, hour)")
    # Covering index: a region's week is an index-only scan.
    cur.execute("CREATE INDEX ON q_unit_hours (facility, day) INCLUDE (pbt, apt, pri_pq, pri_gq)")
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cur.execute(f"INSERT INTO q_facility_days (facility, day, {COLUMNS}) "
                f"SELECT facility, day, {SUMS} FROM q_unit_hours GROUP BY facility, day")
    cur.execute("ALTER TABLE q_facility_days ADD PRIMARY KEY (facility, day)")
    days_s = time.perf_counter() - t0
    cur.execute("VACUUM (ANALYZE) q_unit_hours")
    cur.execute("VACUUM (ANALYZE) q_facility_days")
    cur.execute("VACUUM (ANALYZE) q_facilities")
    cur.execute("SELECT count(*) FROM q_unit_hours")
    rows = cur.fetchone()[0]
    conn.close()
    return {"unit_hour_rows": rows, "load_seconds": load_s, "facility_days_build_seconds": days_s}


REGION_WEEK = """
SELECT sum(pri_gq)::float8 / nullif(sum(pbt), 0) AS oee,
       sum(apt)::float8 / nullif(sum(pbt), 0) AS availability,
       sum(pri_pq)::float8 / nullif(sum(apt), 0) AS effectiveness,
       sum(pri_gq)::float8 / nullif(sum(pri_pq), 0) AS quality_ratio
FROM {table} d JOIN q_facilities f ON f.facility = d.facility
WHERE f.region = $1 AND d.day BETWEEN $2 AND $3"""


def pg_queries(pg, days, queries):
    conn = pg.connect()
    cur = conn.cursor()
    cur.execute("SET jit = off")  # a per-execution compile would dominate millisecond queries
    results = {}
    rng = random.Random(11)
    for table, label in (("q_facility_days", "facility_days"), ("q_unit_hours", "unit_hours")):
        cur.execute(f"PREPARE region_week_{label}(text, date, date) AS " + REGION_WEEK.format(table=table))

        def args():
            offset = rng.randrange(days - 7) if days > 7 else 0
            start = FIRST_DAY + datetime.timedelta(days=offset)
            return (f"region-{rng.randrange(5)}", start, start + datetime.timedelta(days=6))

        for _ in range(20):  # warm: caches and the prepared statement's generic plan
            cur.execute(f"EXECUTE region_week_{label}(%s, %s, %s)", args())
            cur.fetchall()
        client, server = [], []
        oee = None
        for _ in range(queries):
            a = args()
            t0 = time.perf_counter()
            cur.execute(f"EXECUTE region_week_{label}(%s, %s, %s)", a)
            row = cur.fetchone()
            client.append((time.perf_counter() - t0) * 1000.0)
            oee = row[0]
        for _ in range(queries):
            cur.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) EXECUTE region_week_{label}(%s, %s, %s)", args())
            plan = cur.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            server.append(plan[0]["Execution Time"])
        results[f"query_region_week_{label}_client"] = {
            "name": f"query_region_week_{label}_client", "p50_ms": percentile(client, 0.5),
            "p99_ms": percentile(client, 0.99), "queries": queries, "oee": oee}
        results[f"query_region_week_{label}_server"] = {
            "name": f"query_region_week_{label}_server", "p50_ms": percentile(server, 0.5),
            "p99_ms": percentile(server, 0.99), "queries": queries}
    conn.close()
    return results


# ----------------------------------------------------------------------------
# Report

def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kib = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model, "memory_gib": round(mem_kib / 1048576, 1),
            "kernel": platform.release(), "tmpdir": tempfile.gettempdir(), "load_at_start": os.getloadavg()}


def figures(takt, pg, client_counts):
    """(figure, unit, higher is better, takt value, postgres value, sources)."""
    out = []

    def add(figure, unit, higher, tname, tfield, pname, pfield):
        t = takt.get(tname, {}).get(tfield)
        p = pg.get(pname, {}).get(pfield)
        if t is None or p is None:  # a section not run
            return
        ratio = t / p if t is not None and p else None
        out.append({"figure": figure, "unit": unit, "higher_is_better": higher, "takt": t, "postgres": p,
                    "ratio_takt_over_postgres": ratio, "takt_source": f"{tname}.{tfield}",
                    "postgres_source": f"{pname}.{pfield}"})

    add("durable appends, batches of 100, 1 appender / 1 client", "events/s", True,
        "append_batch100_appenders1", "events_per_second", "append_batch100_clients1", "events_per_second")
    for clients in client_counts:
        add(f"durable appends, batches of 100, 64 appenders / {clients} clients", "events/s", True,
            "append_batch100_appenders64", "events_per_second", f"append_batch100_clients{clients}",
            "events_per_second")
    add("single-event durable commits, 1 appender / 1 client", "events/s", True,
        "append_batch1_appenders1", "events_per_second", "append_batch1_clients1", "events_per_second")
    add("single-event durable commit latency p50, 1 / 1", "ms", False,
        "append_batch1_appenders1", "p50_ms", "append_batch1_clients1", "p50_ms")
    for clients in client_counts:
        add(f"single-event durable commits, 64 appenders / {clients} clients", "events/s", True,
            "append_batch1_appenders64", "events_per_second", f"append_batch1_clients{clients}", "events_per_second")
        if clients == 64:  # latencies side by side at the same concurrency only
            add("single-event durable commit latency p50, 64 / 64", "ms", False,
                "append_batch1_appenders64", "p50_ms", "append_batch1_clients64", "p50_ms")
    add("projection rebuild (PostgreSQL: unit_hours by one INSERT ... SELECT)", "events/s", True,
        "projection_rebuild", "events_per_second", "projection_rebuild_sql_unit_hours", "events_per_second")
    add("projection rebuild (PostgreSQL: + facility hours, days, reasons)", "events/s", True,
        "projection_rebuild", "events_per_second", "projection_rebuild_sql_all_tables", "events_per_second")
    for q, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        add(f"region x week OEE {label}, client (PostgreSQL: facility_days)", "ms", False,
            "query_region_week_client", q, "query_region_week_facility_days_client", q)
        add(f"region x week OEE {label}, server (PostgreSQL: facility_days, EXPLAIN ANALYZE)", "ms", False,
            "query_region_week_server", q, "query_region_week_facility_days_server", q)
        add(f"region x week OEE {label}, client (PostgreSQL: unit_hours)", "ms", False,
            "query_region_week_client", q, "query_region_week_unit_hours_client", q)
    return out


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v:.3f} ms" if v < 10 else f"{v:.1f} ms"
    return f"{v:,.0f}"


def print_report(result):
    m = result["machine"]
    print(f"Takt vs PostgreSQL, {result['date']}, --scale {result['scale']}")
    print(f"machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, "
          f"temporary files in {m['tmpdir']}; load average at start {m['load_at_start'][0]:.2f}, "
          f"at end {m['load_at_end'][0]:.2f}")
    print(f"takt: {result['takt_binary']} ({result['takt_version']}); {result['postgres_version']} "
          f"({', '.join(f'{k}={v}' for k, v in result['postgres_settings'].items())}), "
          f"clients over {'TCP 127.0.0.1' if result['pg_tcp'] else 'the Unix socket'} (psycopg2)")
    print()
    print("| figure | Takt | PostgreSQL | Takt / PostgreSQL | faster |")
    print("|---|---|---|---|---|")
    for f in result["figures"]:
        t, p, r = f["takt"], f["postgres"], f["ratio_takt_over_postgres"]
        faster = "-"
        if r:
            speedup = r if f["higher_is_better"] else 1 / r
            faster = ("about even" if 1 / 1.05 <= speedup <= 1.05 else
                      f"Takt {speedup:.1f}x" if speedup > 1 else f"PostgreSQL {1 / speedup:.1f}x")
        print(f"| {f['figure']} | {fmt(t, f['unit'])} | {fmt(p, f['unit'])} | "
              f"{'-' if r is None else f'{r:.3g}'} | {faster} |")
    print()
    print("events in each figure (Takt / PostgreSQL):")
    pairs = [("append_batch100_appenders1", "append_batch100_clients1")]
    pairs += [("append_batch100_appenders64", f"append_batch100_clients{c}") for c in result["pg_clients"]]
    pairs += [("append_batch1_appenders1", "append_batch1_clients1")]
    pairs += [("append_batch1_appenders64", f"append_batch1_clients{c}") for c in result["pg_clients"]]
    pairs += [("projection_rebuild", "projection_rebuild_sql_unit_hours")]
    for tname, pname in pairs:
        t, p = result["takt"].get(tname), result["postgres"].get(pname)
        if t or p:
            te = f"{t['events']:,} in {t['seconds']:.2f} s" if t else "-"
            pe = f"{p['events']:,} in {p['seconds']:.2f} s" if p else "-"
            print(f"  {tname} / {pname}: {te} / {pe}")
    q = result["postgres"].get("query_data")
    if q:
        print(f"  queries: {result['sizes']['queries']} per figure on both sides; PostgreSQL "
              f"{q['unit_hour_rows']:,} unit-hour rows ({result['sizes']['query_facilities']} plants x "
              f"{result['sizes']['query_units']} units x {result['sizes']['query_days']} days), loaded in "
              f"{q['load_seconds']:.1f} s, facility_days by SQL in {q['facility_days_build_seconds']:.2f} s")
    r = result["postgres"].get("projection_rebuild_sql_unit_hours")
    if r and r.get("availability") is not None:
        print(f"  PostgreSQL rebuild: {r['unit_hour_rows']:,} unit-hour rows, {r['facility_day_rows']} facility "
              f"days, {r['failures']} failures, availability {r['availability']:.3f}, OEE {r['oee']:.3f}")


# ----------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(
        description="Takt side by side with PostgreSQL 15: durable appends, single-event commits, "
                    "projection rebuild, a region's weekly OEE; prints the ratios")
    parser.add_argument("--takt", default=DEFAULT_TAKT, help=f"the takt binary (default {DEFAULT_TAKT})")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="sizes both sides (event counts as `takt bench log --scale`; plants, days and "
                             "queries accordingly); default 1")
    parser.add_argument("--pg-clients", default="4,64",
                        help="PostgreSQL clients for the concurrent figures, comma-separated (Takt's have 64 "
                             "appenders); default 4,64")
    parser.add_argument("--pg-bin", default=DEFAULT_PG_BIN, help=f"PostgreSQL's server binaries (default {DEFAULT_PG_BIN})")
    parser.add_argument("--pg-user", help="run PostgreSQL as this user when root (default postgres, else takt-bench)")
    parser.add_argument("--pg-tcp", action="store_true", help="clients over TCP 127.0.0.1 (default: the Unix socket)")
    parser.add_argument("--shared-buffers", default="1GB", help="PostgreSQL shared_buffers (default 1GB)")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)} (default all)")
    parser.add_argument("--facilities", type=int, help="plants for the rebuild (default round(24 x scale))")
    parser.add_argument("--query-days", type=int, help="days of hourly rows for the query (default max(8, 90 x scale))")
    parser.add_argument("--queries", type=int, help="queries per figure (default max(50, 1000 x scale))")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = parser.parse_args()
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    for s in sections:
        if s not in SECTIONS:
            parser.error(f"--sections: unknown section {s!r} (expected {', '.join(SECTIONS)})")
    try:
        args.pg_clients = [int(c) for c in args.pg_clients.split(",") if c.strip()]
    except ValueError:
        parser.error("--pg-clients: comma-separated numbers, e.g. 4,64")
    if not args.pg_clients or min(args.pg_clients) < 1 or args.scale <= 0:
        parser.error("--pg-clients and --scale must be positive")

    # Skips and failures before any work.
    for binary in ("initdb", "postgres"):
        if not os.access(os.path.join(args.pg_bin, binary), os.X_OK):
            skip(f"PostgreSQL is not installed: no {binary} in {args.pg_bin} "
                 "(Debian: apt-get install postgresql-15, or --pg-bin DIR)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        skip("psycopg2 is not installed for this Python (Debian: apt-get install python3-psycopg2)")
    takt = os.path.abspath(args.takt)
    if not os.access(takt, os.X_OK):
        fail(f"no takt binary at {takt} (build it, or --takt PATH)")

    n = sizes(args)
    result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "scale": args.scale, "sizes": n, "sections": sections, "pg_clients": args.pg_clients,
              "pg_tcp": args.pg_tcp, "machine": machine(), "takt_binary": takt, "takt": {}, "postgres": {},
              "takt_commands": []}
    result["takt_version"] = subprocess.run([takt, "--version"], capture_output=True, text=True).stdout.strip()
    result["postgres_version"] = subprocess.run([os.path.join(args.pg_bin, "postgres"), "--version"],
                                                capture_output=True, text=True).stdout.strip()

    # Takt first (PostgreSQL not yet running), one benchmark at a time.
    if "appends" in sections or "single" in sections:
        only = [] if "appends" in sections and "single" in sections else \
            ["--only", "batch100_" if "appends" in sections else "batch1_"]
        out, cmd = run_takt(takt, ["log", "--scale", f"{args.scale:g}"] + only)
        result["takt"].update(out)
        result["takt_commands"].append(cmd)
    if "rebuild" in sections:
        out, cmd = run_takt(takt, ["ingest", "--facilities", str(n["facilities"]), "--days", str(n["days"])])
        result["takt"].update(out)
        result["takt_commands"].append(cmd)
    if "query" in sections:
        out, cmd = run_takt(takt, ["query", "--facilities", str(n["query_facilities"]), "--units",
                                   str(n["query_units"]), "--days", str(n["query_days"]),
                                   "--queries", str(n["queries"])])
        result["takt"].update(out)
        result["takt_commands"].append(cmd)

    settings = {"shared_buffers": args.shared_buffers, "fsync": "on", "synchronous_commit": "on",
                "full_page_writes": "on", "max_wal_size": "4GB", "work_mem": "64MB",
                "maintenance_work_mem": "256MB", "max_connections": str(max(100, max(args.pg_clients) + 10))}
    result["postgres_settings"] = settings
    pg = Postgres(args.pg_bin, pg_os_user(args.pg_user), settings, args.pg_tcp)

    def on_term(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)
    try:
        pg.start()
        with pg.connect() as conn, conn.cursor() as cur:
            cur.execute(SCHEMA)
        conn.close()
        runs = []
        if "appends" in sections:
            runs += [("append_batch100_clients1", 1, n["append_batch100_appenders1"], 100)]
            runs += [(f"append_batch100_clients{c}", c, n["append_batch100_appenders64"], 100)
                     for c in args.pg_clients]
        if "single" in sections:
            runs += [("append_batch1_clients1", 1, n["append_batch1_appenders1"], 1)]
            runs += [(f"append_batch1_clients{c}", c, n["append_batch1_appenders64"], 1) for c in args.pg_clients]
        for name, clients, transactions, batch in runs:
            log(f"postgres: {name} ({transactions * batch:,} events)")
            result["postgres"][name] = pg_appends(pg, name, clients, transactions, batch)
        if "rebuild" in sections:
            result["postgres"].update(pg_rebuild(pg, n["facilities"], n["days"]))
        if "query" in sections:
            log(f"postgres: loading {n['query_facilities']} plants x {n['query_units']} units x "
                f"{n['query_days']} days of hourly rows")
            result["postgres"]["query_data"] = pg_query_data(pg, n["query_facilities"], n["query_units"],
                                                             n["query_days"])
            log(f"postgres: {n['queries']} region x week queries per table")
            result["postgres"].update(pg_queries(pg, n["query_days"], n["queries"]))
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
    except RuntimeError as e:
        fail(f"{e}\n{pg.log_tail() if pg.dir else ''}")
    finally:
        pg.stop()

    result["machine"]["load_at_end"] = os.getloadavg()
    result["figures"] = figures(result["takt"], result["postgres"], args.pg_clients)
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print_report(result)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
