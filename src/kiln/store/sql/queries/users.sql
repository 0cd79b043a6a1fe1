-- Users, refresh-token families (sessions). Emails are compared lowercased; $1 is lowercased by
-- the caller where it names an account.

-- name: users.insert
INSERT INTO users (email, name, password_hash, is_disabled, created_at, updated_at)
VALUES ($1, $2, $3, 0, $4, $4)
RETURNING id;

-- name: users.by_email
SELECT id, email, name, password_hash, is_disabled, created_at, last_login_at
FROM users WHERE lower(email) = $1;

-- name: users.by_id
SELECT id, email, name, password_hash, is_disabled, created_at, last_login_at
FROM users WHERE id = $1;

-- name: users.count
SELECT COUNT(*) AS n FROM users;

-- name: users.set_last_login
UPDATE users SET last_login_at = $2 WHERE id = $1;

-- name: users.set_password
UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1;

-- name: users.set_name
UPDATE users SET name = $2, updated_at = $3 WHERE id = $1;

-- name: refresh.insert
INSERT INTO refresh_tokens (user_id, family_id, token_hash, issued_at, expires_at, ip, user_agent)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: refresh.by_hash
SELECT id, user_id, family_id, expires_at, rotated_at, revoked_at
FROM refresh_tokens WHERE token_hash = $1;

-- name: refresh.mark_rotated
UPDATE refresh_tokens SET rotated_at = $2
WHERE id = $1 AND rotated_at IS NULL AND revoked_at IS NULL;

-- name: refresh.revoke_family
UPDATE refresh_tokens SET revoked_at = $2, revoked_reason = $3
WHERE family_id = $1 AND revoked_at IS NULL;

-- name: refresh.revoke_user_except
UPDATE refresh_tokens SET revoked_at = $3, revoked_reason = $4
WHERE user_id = $1 AND family_id <> $2 AND revoked_at IS NULL;

-- name: sessions.check
SELECT u.is_disabled AS is_disabled,
       (SELECT COUNT(*) FROM refresh_tokens r
         WHERE r.family_id = $2 AND r.user_id = u.id AND r.revoked_at IS NULL) AS active
FROM users u WHERE u.id = $1;
