-- The demo's first migration: tenants and their users.
create table tenants (
	tenant uuid primary key default gen_random_uuid(),
	name text not null,
	created_at timestamptz not null default now()
);

create table users (
	user_id uuid primary key default gen_random_uuid(),
	tenant uuid not null references tenants on delete cascade,
	email text not null,
	username text not null,
	unique (tenant, email)
);
