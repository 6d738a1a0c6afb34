-- The replaced system's schema as its two TypeORM migrations left it,
-- for building test databases to import from.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE TYPE user_role_enum AS ENUM ('admin', 'employee');
CREATE TYPE user_status_enum AS ENUM ('active', 'inactive', 'suspended');
CREATE TYPE session_status_enum AS ENUM ('active', 'stopped');
CREATE TYPE activity_type_enum AS ENUM ('active', 'idle');
CREATE TYPE alert_type_enum AS ENUM ('idle', 'overtime');

CREATE TABLE organizations (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  name varchar(255) NOT NULL,
  plan_type varchar(50) NOT NULL,
  created_at timestamp NOT NULL DEFAULT now()
);
CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  email varchar(255) NOT NULL,
  password_hash varchar(255) NOT NULL,
  name varchar(255) NOT NULL,
  role user_role_enum DEFAULT 'employee',
  status user_status_enum DEFAULT 'active',
  last_seen timestamp,
  created_at timestamp NOT NULL DEFAULT now(),
  updated_at timestamp NOT NULL DEFAULT now(),
  UNIQUE (organization_id, email)
);
CREATE TABLE projects (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  organization_id uuid NOT NULL REFERENCES organizations,
  name varchar(255) NOT NULL,
  description text,
  created_by uuid NOT NULL REFERENCES users ON DELETE CASCADE,
  created_at timestamp NOT NULL DEFAULT now()
);
CREATE TABLE work_sessions (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  organization_id uuid NOT NULL REFERENCES organizations,
  user_id uuid NOT NULL REFERENCES users,
  project_id uuid REFERENCES projects ON DELETE SET NULL,
  start_time timestamp NOT NULL,
  end_time timestamp,
  total_active_seconds int NOT NULL DEFAULT 0,
  total_idle_seconds int NOT NULL DEFAULT 0,
  last_activity_at timestamp,
  status session_status_enum DEFAULT 'active',
  version int NOT NULL DEFAULT 1,
  created_at timestamp NOT NULL DEFAULT now(),
  updated_at timestamp NOT NULL DEFAULT now()
);
CREATE TABLE activity_logs (
  id uuid DEFAULT uuid_generate_v4(),
  session_id uuid NOT NULL REFERENCES work_sessions,
  timestamp timestamp NOT NULL,
  activity_type activity_type_enum NOT NULL,
  duration_seconds int NOT NULL,
  url varchar(2048),
  client_activity_id varchar(255)
) PARTITION BY RANGE (timestamp);
CREATE TABLE activity_logs_2026_08 PARTITION OF activity_logs FOR VALUES FROM ('2026-08-01') TO ('2026-09-01');
CREATE TABLE activity_logs_2026_09 PARTITION OF activity_logs FOR VALUES FROM ('2026-09-01') TO ('2026-10-01');
CREATE TABLE activity_logs_2026_10 PARTITION OF activity_logs FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');
CREATE TABLE activity_logs_2026_11 PARTITION OF activity_logs FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE UNIQUE INDEX activity_logs_client ON activity_logs (session_id, client_activity_id, timestamp) WHERE client_activity_id IS NOT NULL;
CREATE TABLE daily_summaries (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  organization_id uuid NOT NULL REFERENCES organizations,
  user_id uuid NOT NULL REFERENCES users,
  date date NOT NULL,
  total_work_seconds int,
  active_seconds int,
  idle_seconds int,
  productivity_score decimal(5,2),
  app_usage jsonb DEFAULT '[]',
  UNIQUE (user_id, date)
);
CREATE TABLE alerts (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id uuid NOT NULL REFERENCES users,
  type alert_type_enum NOT NULL,
  message text NOT NULL,
  created_at timestamp NOT NULL,
  resolved_at timestamp
);
CREATE TABLE migrations (id serial PRIMARY KEY, timestamp bigint NOT NULL, name varchar NOT NULL);
