-- One demo tenant with an administrator and a first ticket.
insert into tenants (tenant, name)
values ('00000000-0000-4000-8000-000000000001', 'Demo MSP');

insert into users (tenant, email, username)
values ('00000000-0000-4000-8000-000000000001', 'admin@demo.invalid', 'admin');

insert into tickets (tenant, title, opened_by)
select tenant, 'Welcome to Alga PSA', user_id from users
where email = 'admin@demo.invalid';
