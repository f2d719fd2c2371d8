import Formats
import Foundation
import JobQueue
import Jobs

// mscm-bench queue: the job queue's figures on the server DATABASE_URL names (each run in a
// scratch database, dropped afterwards).
//  1. claim+complete throughput of `sleep` jobs with seconds=0 (claim, one progress write, log
//     line, complete: the queue's whole per-job cost) with 1, 4 and 16 worker slots;
//  2. wake-up latency from submit to claim (database clock) with LISTEN/NOTIFY, and poll-only
//     with a 1 s poll for comparison;
//  3. claim latency and plan with 1,000,000 finished jobs in the table.

func runQueueBench() {
    do { try QueueBench().run() } catch {
        FileHandle.standardError.write("mscm-bench queue: \(error)\n".data(using: .utf8)!)
        exit(1)
    }
}

struct QueueBench {
    let sleep0: JSON = ["seconds": 0.0, "steps": 1, "checkpoint_every": 0, "fail_attempts": 0]

    func run() throws {
        print("queue (PostgreSQL \(try serverVersion()), \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        for slots in [1, 4, 16] { try throughput(slots: slots, jobs: slots == 1 ? 1500 : 3000) }
        try wakeLatency(listen: true, samples: 60)
        try wakeLatency(listen: false, samples: 12)
        try claimWithFinished(1_000_000)
    }

    func serverVersion() throws -> String {
        try PGConnection().query("SHOW server_version").first?["server_version"] ?? "?"
    }

    func withScratch<T>(_ body: (ScratchDatabase, PGConnection) throws -> T) throws -> T {
        let scratch = try ScratchDatabase(prefix: "mscm_bench")
        defer { scratch.drop() }
        return try body(scratch, try scratch.migrated())
    }

    func worker(_ scratch: ScratchDatabase, slots: Int, listen: Bool = true, poll: Double = 0.05,
                log: @escaping (String) -> Void = { _ in }) throws -> Worker {
        var c = WorkerConfig(id: "bench")
        c.conninfo = scratch.url
        c.concurrency = slots
        c.listen = listen
        c.poll = poll
        c.log = log
        return try Worker(config: c, handlers: JobRegistry.all)
    }

    func throughput(slots: Int, jobs: Int) throws {
        try withScratch { scratch, db in
            try db.query("INSERT INTO jobs (kind, spec) SELECT 'sleep', $1::jsonb FROM generate_series(1, $2)",
                         [sleep0.serialized, String(jobs)])
            // Count completions from the worker's own log lines: polling the table would compete
            // with the workers for the same two cores.
            let done = DispatchSemaphore(value: 0)
            let w = try worker(scratch, slots: slots) { if $0.contains(" succeeded in ") { done.signal() } }
            let t0 = Clock.now
            w.start()
            for _ in 0..<jobs { done.wait() }
            let dt = Clock.now - t0
            w.stop(); w.wait()
            guard try JobStore(db).counts()[.succeeded] == jobs else { throw PGError("not every job succeeded") }
            print(String(format: "  claim+complete, %2d slot(s): %6.0f jobs/s  (%d sleep-0 jobs in %.2f s)",
                         slots, Double(jobs) / dt, jobs, dt))
        }
    }

    func wakeLatency(listen: Bool, samples: Int) throws {
        try withScratch { scratch, db in
            let w = try worker(scratch, slots: 1, listen: listen, poll: listen ? 30 : 1)
            w.start()
            defer { w.stop(); w.wait() }
            Thread.sleep(forTimeInterval: 0.5)
            let store = JobStore(db)
            var lat: [Double] = []
            for _ in 0..<samples {
                let id = try store.submit(NewJob(kind: SleepJob.kind, spec: sleep0)).id
                var j = try store.get(id)!
                while j.state != .succeeded { Thread.sleep(forTimeInterval: 0.002); j = try store.get(id)! }
                lat.append(j.attemptedAt! - j.createdAt)
                // Submit at a random phase of the poll cycle.
                Thread.sleep(forTimeInterval: Double.random(in: 0.02...(listen ? 0.08 : 1.0)))
            }
            lat.sort()
            func q(_ p: Double) -> Double { lat[min(lat.count - 1, Int(p * Double(lat.count)))] * 1000 }
            print(String(format: "  wake-up submit→claim, %@: p50 %.2f ms, p95 %.2f ms, max %.2f ms (%d jobs)",
                         listen ? "LISTEN/NOTIFY (poll 30 s)" : "poll-only (poll 1 s)   ", q(0.5), q(0.95), lat.last! * 1000, samples))
        }
    }

    func claimWithFinished(_ n: Int) throws {
        try withScratch { scratch, db in
            let t0 = Clock.now
            try db.query("""
                INSERT INTO jobs (kind, spec, state, attempt, attempted_by, started_at, attempted_at, finished_at, result)
                SELECT 'sleep', $1::jsonb, 'succeeded', 1, '{bench}', now(), now(), now() - interval '1 hour', '{}'
                FROM generate_series(1, $2)
                """, [sleep0.serialized, String(n)])
            try db.execute("VACUUM ANALYZE jobs")
            let seeded = Clock.now - t0
            let store = JobStore(db)
            for _ in 0..<100 { try store.submit(NewJob(kind: SleepJob.kind, spec: sleep0)) }
            let plan = try db.query("""
                EXPLAIN ANALYZE SELECT id FROM jobs WHERE state = 'queued' AND run_at <= now()
                AND queue = ANY('{default}'::text[]) AND kind = ANY('{sleep}'::text[])
                ORDER BY priority, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
                """).rows.map { $0[0]! }
            let scan = plan.first { $0.contains("Scan") }?.trimmingCharacters(in: .whitespaces) ?? "?"
            var times: [Double] = []
            for _ in 0..<100 {
                let c0 = Clock.now
                let j = try store.claim(owner: "bench", queues: ["default"], kinds: ["sleep"], lease: 30)!
                try store.finish(Lease(job: j.id, attempt: j.attempt, owner: "bench"), .complete([:]))
                times.append(Clock.now - c0)
            }
            times.sort()
            print(String(format: "  with %d finished jobs (seeded in %.0f s): claim+complete p50 %.2f ms, p95 %.2f ms; plan: %@",
                         n, seeded, times[50] * 1000, times[95] * 1000, String(scan.prefix(80))))
        }
    }
}
