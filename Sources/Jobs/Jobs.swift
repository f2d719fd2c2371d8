// Jobs: one handler per job kind, joining the queue with the numerics.
@_exported import JobQueue
