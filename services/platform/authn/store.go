package authn

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PGRevocations reads the revocation list from the installation's
// PostgreSQL, where the auth service writes it; every service's role may
// call auth.revocations_after.
type PGRevocations struct{ DB *pgxpool.Pool }

// RevocationsAfter implements RevocationSource.
func (s PGRevocations) RevocationsAfter(ctx context.Context, seq int64, limit int) ([]Revocation, error) {
	rows, err := s.DB.Query(ctx, "SELECT kind, subject::text, blocked, min_version, expires_at, seq FROM auth.revocations_after($1, $2)", seq, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Revocation, error) {
		var v Revocation
		return v, r.Scan(&v.Kind, &v.Subject, &v.Blocked, &v.MinVersion, &v.ExpiresAt, &v.Seq)
	})
}

// PGDeviceUse writes device uses to the installation's PostgreSQL; every
// service's role may call auth.device_used, which changes nothing but the
// device's last use.
type PGDeviceUse struct{ DB *pgxpool.Pool }

// DeviceUsed implements DeviceUseSink.
func (s PGDeviceUse) DeviceUsed(ctx context.Context, deviceID string, at time.Time) error {
	_, err := s.DB.Exec(ctx, "SELECT auth.device_used($1, $2)", deviceID, at)
	return err
}
