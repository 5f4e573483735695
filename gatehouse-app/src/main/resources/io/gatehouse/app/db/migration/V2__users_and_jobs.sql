-- Users sign up with a name and a password; only an argon2id hash (PHC string, salt inside) is kept.
create table users (
    name          text primary key check (name ~ '^[a-z0-9][a-z0-9_.-]{2,31}$'),
    password_hash text        not null,
    created_at    timestamptz not null default now()
);

-- One row per periodic-job run, keyed by the time slot it covers. The leader latch makes one instance run the
-- jobs; this key makes a doubled run impossible even when two instances both believe they lead for a moment
-- (a paused old leader whose ZooKeeper session has not expired yet): the second claim of a slot fails.
create table job_runs (
    job        text        not null,
    slot       bigint      not null,
    instance   text        not null,
    started_at timestamptz not null default now(),
    primary key (job, slot)
);
