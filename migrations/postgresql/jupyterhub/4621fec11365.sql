-- PostgreSQL: 3c2384c5aae1 to JupyterHub 5.x (4621fec11365): roles managed by the
-- authenticator, as JupyterHub's alembic revision 4621fec11365_manage_roles does (existing rows
-- get false, and the columns keep that server default, as there); plus the sharing tables that
-- JupyterHub 5.0 creates without a migration, as its ORM creates them (001 has the same).
ALTER TABLE roles ADD COLUMN managed_by_auth BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE user_role_map ADD COLUMN managed_by_auth BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE group_role_map ADD COLUMN managed_by_auth BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE service_role_map ADD COLUMN managed_by_auth BOOLEAN NOT NULL DEFAULT false;
CREATE TABLE IF NOT EXISTS share_codes (
  id SERIAL NOT NULL,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  scopes TEXT,
  expires_at TIMESTAMP WITHOUT TIME ZONE,
  hashed VARCHAR(255),
  prefix VARCHAR(16),
  exchange_count INTEGER,
  last_exchanged_at TIMESTAMP WITHOUT TIME ZONE,
  owner_id INTEGER,
  spawner_id INTEGER,
  CONSTRAINT pk_share_codes PRIMARY KEY (id),
  CONSTRAINT uq_share_codes_hashed UNIQUE (hashed),
  CONSTRAINT fk_share_codes_owner_id_users FOREIGN KEY(owner_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT fk_share_codes_spawner_id_spawners FOREIGN KEY(spawner_id) REFERENCES spawners (id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS shares (
  id SERIAL NOT NULL,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  scopes TEXT,
  expires_at TIMESTAMP WITHOUT TIME ZONE,
  user_id INTEGER,
  group_id INTEGER,
  owner_id INTEGER,
  spawner_id INTEGER,
  CONSTRAINT pk_shares PRIMARY KEY (id),
  CONSTRAINT fk_shares_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT fk_shares_group_id_groups FOREIGN KEY(group_id) REFERENCES groups (id) ON DELETE CASCADE,
  CONSTRAINT fk_shares_owner_id_users FOREIGN KEY(owner_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT fk_shares_spawner_id_spawners FOREIGN KEY(spawner_id) REFERENCES spawners (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ix_share_codes_prefix ON share_codes (prefix);
UPDATE alembic_version SET version_num = '4621fec11365';
