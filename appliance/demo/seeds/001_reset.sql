-- Like the app's demo seeds: start from nothing. Running this over a
-- customer's data destroys it; alga-bootstrap runs it once.
truncate tenants cascade;
