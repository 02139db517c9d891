-- PostgreSQL: JupyterHub 3.x (alembic 651f5419b74d) to 4.0 (0eee8c825d24): group properties, as
-- JupyterHub's alembic revision 0eee8c825d24_added_properties_column does (JSONDict is TEXT).
ALTER TABLE groups ADD COLUMN properties TEXT;
UPDATE alembic_version SET version_num = '0eee8c825d24';
