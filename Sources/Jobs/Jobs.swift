// Jobs: one handler per job kind, joining the queue with the numerics.
