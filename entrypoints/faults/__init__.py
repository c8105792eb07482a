"""`make faults`: the fault-injection suite. Each case breaks one part of a live deployment
(a process killed, a server down, hostile records on the log) while commands keep arriving,
then measures how long the read models take to equal the reference projection again and
whether anything was lost, doubled, left stale or wrongly dead-lettered."""
