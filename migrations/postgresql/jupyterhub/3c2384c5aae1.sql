-- PostgreSQL: JupyterHub 4.x (0eee8c825d24) to 3c2384c5aae1: services defined at run time, as
-- JupyterHub's alembic revision 3c2384c5aae1_add_from_config_column_to_the_services_ does.
-- cwd is VARCHAR(2047) as that revision makes it, although JupyterHub 5's model (and so 001)
-- says VARCHAR(4095): a database JupyterHub itself upgraded has 2047 too.
ALTER TABLE services ADD COLUMN from_config BOOLEAN;
UPDATE services SET from_config = true;
ALTER TABLE services ADD COLUMN url VARCHAR(2047);
ALTER TABLE services ADD COLUMN oauth_client_allowed_scopes TEXT;
ALTER TABLE services ADD COLUMN info TEXT;
ALTER TABLE services ADD COLUMN display BOOLEAN;
ALTER TABLE services ADD COLUMN oauth_no_confirm BOOLEAN;
ALTER TABLE services ADD COLUMN command TEXT;
ALTER TABLE services ADD COLUMN cwd VARCHAR(2047);
ALTER TABLE services ADD COLUMN environment TEXT;
ALTER TABLE services ADD COLUMN "user" VARCHAR(255);
UPDATE alembic_version SET version_num = '3c2384c5aae1';
