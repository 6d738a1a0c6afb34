-- A queued message's body holds a password reset or invitation link,
-- which opens the account until it is spent: auth now seals it with
-- SIGNING_KEY_ENCRYPTION_KEY (AES-256-GCM, bound to the organization and
-- recipient) and only the sender opens it. Bodies queued before stay
-- readable, marked as stored without a cipher ('wpp1'), until sent or
-- resealed at the next start; a sent message is deleted, as before.
-- +goose Up
ALTER TABLE auth.mail_outbox ALTER COLUMN body TYPE bytea USING 'wpp1'::bytea || convert_to(body, 'UTF8');

-- +goose Down
-- A sealed body does not turn back into text without the key: such
-- messages are dropped, and whoever waited for them asks again.
DELETE FROM auth.mail_outbox WHERE substring(body FOR 4) <> 'wpp1'::bytea;
ALTER TABLE auth.mail_outbox ALTER COLUMN body TYPE text USING convert_from(substring(body FROM 5), 'UTF8');
