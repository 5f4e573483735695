-- Links. The code is the primary key and the only thing that decides where a link lives: with several primaries,
-- shard = the owner of hash(code) on a consistent-hash ring, so a redirect (the hot path) touches exactly one
-- shard and needs no directory lookup. Nothing here joins links to another table on the redirect path.
create table links (
    code        text primary key,
    target      text        not null check (length(target) <= 2048),
    owner       text        not null,
    permanent   boolean     not null default false,
    expires_at  timestamptz,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    -- Microseconds of the last change, and never smaller than before (even across delete and re-create of an
    -- alias): the cache refuses to store a version older than one it has already seen.
    version     bigint      not null default (extract(epoch from clock_timestamp()) * 1000000)::bigint,
    -- Rolled up from Redis counters by the leader, so a redirect never writes to PostgreSQL.
    hits        bigint      not null default 0
);

-- "My links", newest first. Sharded, this becomes a scatter-gather over shards (or an owner -> codes index kept on
-- the owner's shard); it is the one query that does not follow the code.
create index links_owner_created on links (owner, created_at desc);

-- The expired-link sweep reads only links that can expire.
create index links_expires_at on links (expires_at) where expires_at is not null;
