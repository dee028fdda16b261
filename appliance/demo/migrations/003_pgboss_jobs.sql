-- The demo's third migration: a job queue table in schema pgboss, which the
-- Alga plan creates and grants app_user on (as pg-boss's own tables are),
-- so that the demo shows those grants reaching a table a migration made.
create table pgboss.job (
	id uuid primary key default gen_random_uuid(),
	name text not null,
	data jsonb,
	state text not null default 'created',
	created_on timestamptz not null default now()
);
