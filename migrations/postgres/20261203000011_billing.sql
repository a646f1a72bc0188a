-- Billing (hosted mode; PostgreSQL dialect; keep in step with sqlite).
-- One row per workspace that billing has touched: its Stripe customer, the subscription as
-- Stripe last described it (processing a webhook reads Stripe's current state and writes it
-- here whole), whether the admins were told the workspace lapsed, and what was last reported
-- to Stripe's meter of active members. The trial needs no row: it runs from the install.
CREATE TABLE billing_accounts (
    workspace_id          TEXT PRIMARY KEY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    stripe_customer_id    TEXT UNIQUE,
    subscription_id       TEXT,
    subscription_status   TEXT,
    period_start          BIGINT,
    period_end            BIGINT,
    cancel_at_period_end  BIGINT NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1)),
    lapse_notice_at       BIGINT,
    reported_period_start BIGINT,
    reported_active       BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
