-- The demo's second migration: tickets, to have something to seed.
create table tickets (
	ticket_id bigserial primary key,
	tenant uuid not null references tenants on delete cascade,
	title text not null,
	opened_by uuid references users on delete set null,
	opened_at timestamptz not null default now()
);
