-- An endpoint receives either the event as JSON or a Slack-compatible
-- message ({"text": ...}, what Slack's and most chat tools' incoming
-- webhooks accept).
-- +goose Up
ALTER TABLE reporting.webhook_endpoints
  ADD COLUMN format text NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack'));

-- +goose Down
ALTER TABLE reporting.webhook_endpoints DROP COLUMN format;
