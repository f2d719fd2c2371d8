import Formats
import Foundation

/// The worker's maintenance thread (River's rescuer, scheduler and cleaner, as three small
/// steps on one connection). Every worker runs it; SKIP LOCKED and the schedules' row locks
/// let any number run at once without doing anything twice.
///
/// * rescue: running jobs whose lease expired go back to the queue (or fail, or are cancelled);
/// * schedules: due schedules become jobs (exactly one per due time);
/// * dependencies: queued jobs whose dependency failed or was cancelled are cancelled;
/// * prune: jobs finished more than `retention` ago are deleted, once a minute at most, and
///   workers not heard from in a day are forgotten.
final class Maintenance {
    let config: WorkerConfig
    let health: DatabaseHealth
    let wake: WakeSignal
    private let stopSignal = WakeSignal(cap: 1)
    private let handle: DBHandle
    private var lastPrune = -Double.infinity

    init(config: WorkerConfig, wake: WakeSignal, health: DatabaseHealth) {
        self.config = config; self.wake = wake; self.health = health
        handle = DBHandle(config.conninfo)
    }

    func stop() { stopSignal.close() }

    func run() {
        var backoff = Backoff()
        repeat {
            do {
                try tick()
                backoff.reset()
                stopSignal.sleep(config.maintenanceInterval * Double.random(in: 0.8...1.2))
            } catch {
                if error.isConnectionLoss { health.failed(error) } else { config.log("maintenance failed: \(Worker.oneLine(error))") }
                handle.reset()
                stopSignal.sleep(backoff.next())
            }
        } while !stopSignal.isClosed
    }

    func tick() throws {
        let db = try handle.get()
        let store = JobStore(db)
        let rescued = try store.rescueExpired(maxRescues: config.maxRescues)
        for r in rescued {
            config.log("job \(r.id) attempt \(r.attempt): lease of \(r.owner) expired; rescued → \(r.state.rawValue)")
        }
        if rescued.contains(where: { $0.state == .queued }) { wake.signal() }
        for f in try ScheduleStore(db).fireDue() {
            let due = ISOTime.format(f.dueAt)
            if let job = f.job {
                config.log("schedule \(f.schedule) due \(due) → job \(job)"
                           + (f.skipped > 0 ? " (catch-up: \(f.skipped) missed due time(s) skipped)" : ""))
            } else {
                config.log("schedule \(f.schedule) due \(due): its job already exists")
            }
        }
        for d in try store.cancelDependentsOfFailedJobs() {
            config.log("job \(d.job) cancelled: its dependency job \(d.dependency) did not succeed")
        }
        if config.retention > 0, Clock.now - lastPrune >= 60 {
            try WorkerStore(db).forget(olderThan: 86_400)
            lastPrune = Clock.now
            let n = try store.prune(olderThan: config.retention)
            if n > 0 { config.log("pruned \(n) job(s) finished more than \(Durations.format(config.retention)) ago") }
        }
    }
}
