-- The person's accounts at travel platforms (OAuth sign-ins): one row per person and platform.
-- The tokens are one AES-256-GCM envelope (access and refresh token together), bound to the
-- person and the platform, so a row copied to another person or platform does not open.
-- Scopes and expiry stay readable: they say what the sign-in allows, not how to use it.

CREATE TABLE platform_accounts (
    owner         TEXT NOT NULL,
    platform      TEXT NOT NULL,
    tokens        TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    expires_at    TEXT,
    connected_at  TEXT NOT NULL,
    refreshed_at  TEXT NOT NULL,
    PRIMARY KEY (owner, platform)
);
