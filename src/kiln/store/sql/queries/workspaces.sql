-- Workspaces and memberships.

-- name: workspaces.insert
INSERT INTO workspaces (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id;

-- name: workspaces.by_id
SELECT id, name, created_at, updated_at FROM workspaces WHERE id = $1;

-- name: workspaces.list_for_user
SELECT w.id AS id, w.name AS name, w.created_at AS created_at, m.role AS role
FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
WHERE m.user_id = $1
ORDER BY w.name, w.id;

-- name: workspaces.rename
UPDATE workspaces SET name = $2, updated_at = $3 WHERE id = $1;

-- name: workspaces.delete
DELETE FROM workspaces WHERE id = $1;

-- name: members.role_of
SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2;

-- name: members.get
SELECT m.user_id AS user_id, u.email AS email, u.name AS name, m.role AS role, m.created_at AS created_at
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.workspace_id = $1 AND m.user_id = $2;

-- name: members.list
SELECT m.user_id AS user_id, u.email AS email, u.name AS name, m.role AS role, m.created_at AS created_at
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.workspace_id = $1
ORDER BY m.created_at, m.user_id;

-- name: members.insert
INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4);

-- name: members.set_role
UPDATE memberships SET role = $3 WHERE workspace_id = $1 AND user_id = $2;

-- name: members.delete
DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2;

-- name: members.count_owners
SELECT COUNT(*) AS n FROM memberships WHERE workspace_id = $1 AND role = 'owner';

-- name: api_keys.insert
INSERT INTO api_keys (workspace_id, name, prefix, key_hash, role, created_by_user_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id;

-- name: api_keys.get
SELECT id, name, prefix, role, created_by_user_id, created_at, last_used_at
FROM api_keys WHERE workspace_id = $1 AND id = $2;

-- name: api_keys.list
SELECT id, name, prefix, role, created_by_user_id, created_at, last_used_at
FROM api_keys WHERE workspace_id = $1 AND revoked_at IS NULL
ORDER BY id;

-- name: api_keys.by_hash
SELECT id, workspace_id, role, revoked_at, last_used_at FROM api_keys WHERE key_hash = $1;

-- name: api_keys.touch
UPDATE api_keys SET last_used_at = $2 WHERE id = $1;

-- name: api_keys.revoke
UPDATE api_keys SET revoked_at = $3 WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL;

-- name: audit.insert
INSERT INTO audit_log (workspace_id, user_id, api_key_id, action, target_type, target_id, ip, details, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: audit.list
-- The workspace's own entries plus its members' sign-in events (which belong to no workspace).
SELECT a.id AS id, a.action AS action, a.user_id AS user_id, u.email AS user_email,
       a.api_key_id AS api_key_id, a.target_type AS target_type, a.target_id AS target_id,
       a.ip AS ip, a.details AS details, a.created_at AS created_at
FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
WHERE a.id < $2
  AND (a.workspace_id = $1
       OR (a.workspace_id IS NULL
           AND a.user_id IN (SELECT m.user_id FROM memberships m WHERE m.workspace_id = $1)))
ORDER BY a.id DESC
LIMIT $3;

-- name: settings.get_instance
SELECT value FROM settings WHERE workspace_id IS NULL AND key = $1;

-- name: settings.put_instance_if_absent
INSERT INTO settings (workspace_id, key, value, updated_at) VALUES (NULL, $1, $2, $3)
ON CONFLICT (key) WHERE workspace_id IS NULL DO NOTHING;
