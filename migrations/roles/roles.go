// Package roles creates and updates the services' PostgreSQL login roles,
// one per service, each holding only its own grants. Services log in as
// these roles instead of logging in as the schema owner and dropping to a
// role with SET ROLE: a RESET ROLE then returns to the service's own role,
// never to the owner, so row-level security always applies.
//
// Roles belong to the whole PostgreSQL cluster, not to one database, so
// their names carry the installation's prefix: two installations on one
// cluster never share a role. Only the migrating user (the schema owner,
// with CREATEROLE) runs this, as the last step of `migrate up`.
package roles

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"github.com/jackc/pgx/v5"
	"github.com/xdg-go/scram"

	"github.com/workpulse/workpulse/services/platform/config"
)

// Services are the deployables that get a login role: the five services
// and the operator, whose role changes the activity trees only through the
// owner's functions.
var Services = []string{"auth", "session", "ingest", "report", "realtime", "operator"}

// DefaultPrefix names the roles of an installation that sets no prefix
// (make dev, the tests): workpulse_auth, workpulse_session, ...
const DefaultPrefix = "workpulse"

// schemas are the ones whose privileges the roles are reconciled on.
var schemas = []string{"auth", "tracking", "reporting"}

//go:embed grants.sql
var grantsSQL string

var grants = template.Must(template.New("grants.sql").Option("missingkey=error").Parse(grantsSQL))

// prefixPattern keeps the longest role name ("<prefix>_realtime") within
// PostgreSQL's 63 bytes and free of characters that need quoting in a
// connection string.
var prefixPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ErrBadPrefix is returned for a prefix that cannot name a role.
var ErrBadPrefix = errors.New("roles: the prefix must be 1-40 characters of a-z, 0-9 and _, starting with a letter")

// Set is one installation's roles.
type Set struct {
	Prefix string
	// Passwords by service. A service without one keeps its role's current
	// password (a new role has none: certificate or trust authentication).
	Passwords map[string]string
}

// Name is the login role of service.
func (s Set) Name(service string) string { return s.Prefix + "_" + service }

// Validate reports a prefix or password that cannot be used.
func (s Set) Validate() error {
	if !prefixPattern.MatchString(s.Prefix) {
		return fmt.Errorf("%w: %q", ErrBadPrefix, s.Prefix)
	}
	for svc := range s.Passwords {
		if !isService(svc) {
			return fmt.Errorf("roles: a password is set for %q, which is not a service", svc)
		}
	}
	return nil
}

func isService(name string) bool {
	for _, s := range Services {
		if s == name {
			return true
		}
	}
	return false
}

// Apply creates or updates the login roles in one transaction of tx's
// connection, then makes their privileges on WorkPulse's schemas exactly
// those of grants.sql. Roles of the same services under another prefix
// (an earlier prefix, or the NOLOGIN roles of the first migration) lose
// every privilege here, so a renamed installation leaves no role behind
// that still reaches its data.
func (s Set) Apply(ctx context.Context, tx pgx.Tx) error {
	if err := s.Validate(); err != nil {
		return err
	}
	names := map[string]string{}
	for _, svc := range Services {
		names[svc] = pgx.Identifier{s.Name(svc)}.Sanitize()
		if err := s.ensureRole(ctx, tx, svc); err != nil {
			return err
		}
	}
	stale, err := staleGrantees(ctx, tx, s)
	if err != nil {
		return err
	}
	var revokes []string
	for _, svc := range Services {
		revokes = append(revokes, names[svc])
	}
	revokes = append(revokes, stale...)
	for _, r := range revokes {
		if err := revokeAll(ctx, tx, r); err != nil {
			return err
		}
	}
	var sql bytes.Buffer
	if err := grants.Execute(&sql, names); err != nil {
		return fmt.Errorf("roles: grants: %w", err)
	}
	if _, err := tx.Exec(ctx, sql.String()); err != nil {
		return fmt.Errorf("roles: grants: %w", err)
	}
	return nil
}

// ensureRole creates the role or resets its attributes: whatever an
// administrator changed, a service role never bypasses RLS, creates
// anything outside its grants or inherits another role's privileges.
func (s Set) ensureRole(ctx context.Context, tx pgx.Tx, svc string) error {
	name := s.Name(svc)
	ident := pgx.Identifier{name}.Sanitize()
	pw := s.Passwords[svc]
	// Roles are rows shared by every database of the cluster: an ALTER
	// that changes nothing still competes with other databases' runs
	// ("tuple concurrently updated"), so a role already as wanted is left.
	var exists, asWanted bool
	if err := tx.QueryRow(ctx, `SELECT true, rolcanlogin AND NOT (rolsuper OR rolcreatedb OR rolcreaterole OR rolinherit OR rolreplication OR rolbypassrls)
		FROM pg_roles WHERE rolname = $1`, name).Scan(&exists, &asWanted); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if asWanted && pw == "" {
		return nil
	}
	verb := "ALTER"
	if !exists {
		verb = "CREATE"
	}
	stmt := verb + " ROLE " + ident + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
	if pw != "" {
		v, err := verifier(name, pw)
		if err != nil {
			return err
		}
		// The server stores (and any statement log shows) the SCRAM
		// verifier only: the password itself never reaches PostgreSQL.
		stmt += " PASSWORD '" + v + "'"
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("roles: %s role %s: %w", strings.ToLower(verb), name, err)
	}
	return nil
}

// verifier is PostgreSQL's SCRAM-SHA-256 form of password (what
// PASSWORD stores when given the clear text), with PostgreSQL's default
// 4096 iterations and a 16-byte random salt.
func verifier(user, password string) (string, error) {
	client, err := scram.SHA256.NewClient(user, password, "")
	if err != nil {
		return "", fmt.Errorf("roles: the password of %s: %w", user, err)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	c := client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: 4096})
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", c.Iters, b64(salt), b64(c.StoredKey), b64(c.ServerKey)), nil
}

// staleGrantees are the quoted names of roles that hold a privilege on
// WorkPulse's schemas or their objects, are named like a service role
// (…_auth, …_report, …) and are not this installation's. Roles named
// otherwise (an administrator's read-only reporting role) are left alone.
func staleGrantees(ctx context.Context, tx pgx.Tx, s Set) ([]string, error) {
	var mine, suffixes []string
	for _, svc := range Services {
		mine = append(mine, s.Name(svc))
		suffixes = append(suffixes, "_"+svc)
	}
	rows, err := tx.Query(ctx, `
		WITH acl AS (
		  SELECT (aclexplode(nspacl)).grantee AS grantee, nspowner AS owner FROM pg_namespace WHERE nspname = ANY($1)
		  UNION ALL
		  SELECT (aclexplode(c.relacl)).grantee, c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)
		  UNION ALL
		  SELECT (aclexplode(p.proacl)).grantee, p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1)
		  UNION ALL
		  SELECT (aclexplode(a.attacl)).grantee, c.relowner FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND a.attacl IS NOT NULL
		)
		SELECT DISTINCT r.rolname FROM acl JOIN pg_roles r ON r.oid = acl.grantee
		WHERE acl.grantee <> acl.owner AND r.rolname <> ALL($2)
		  AND EXISTS (SELECT 1 FROM unnest($3::text[]) suffix WHERE right(r.rolname, length(suffix)) = suffix)
		ORDER BY 1`, schemas, mine, suffixes)
	if err != nil {
		return nil, fmt.Errorf("roles: find stale grantees: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("roles: find stale grantees: %w", err)
	}
	for i, n := range names {
		names[i] = pgx.Identifier{n}.Sanitize()
	}
	return names, nil
}

func revokeAll(ctx context.Context, tx pgx.Tx, role string) error {
	for _, schema := range schemas {
		for _, kind := range []string{"TABLES", "SEQUENCES", "FUNCTIONS"} {
			if _, err := tx.Exec(ctx, fmt.Sprintf("REVOKE ALL ON ALL %s IN SCHEMA %s FROM %s", kind, schema, role)); err != nil {
				return fmt.Errorf("roles: revoke from %s: %w", role, err)
			}
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("REVOKE ALL ON SCHEMA %s FROM %s", schema, role)); err != nil {
			return fmt.Errorf("roles: revoke from %s: %w", role, err)
		}
	}
	return nil
}

// Grants is the grants script before the role names are filled in, so that
// migrations.Fingerprint changes when the grants do.
func Grants() string { return grantsSQL }

// Load reads DB_ROLE_PREFIX and each service's DB_ROLE_PASSWORD_<SERVICE>
// (DB_ROLE_PASSWORD_AUTH, ...), which are secrets and never logged.
func Load(e *config.Env) Set {
	s := Set{Prefix: e.String("DB_ROLE_PREFIX", DefaultPrefix), Passwords: map[string]string{}}
	if err := s.Validate(); err != nil {
		e.Fail("DB_ROLE_PREFIX", "%v", err)
	}
	for _, svc := range Services {
		if pw := e.String("DB_ROLE_PASSWORD_"+strings.ToUpper(svc), ""); pw != "" {
			s.Passwords[svc] = pw
		}
	}
	return s
}
