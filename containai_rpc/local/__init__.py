"""The per-user shared server's local plumbing, standard library only: where its socket
lives and who may use it (`rundir`), and the framed client `cai` speaks over it
(`channel`, `connect`). `cai` imports nothing heavier, so it starts in milliseconds."""
